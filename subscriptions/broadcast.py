"""Create the application's ``Broadcast`` from a URL."""

from __future__ import annotations

from urllib.parse import urlparse

from broadcaster import Broadcast

from subscriptions.redis_backend import RedisBackend


def create_broadcast(url: str) -> Broadcast:
    """``redis://``/``rediss://`` use our reconnecting backend; ``memory://`` the in-process one."""
    scheme = urlparse(url).scheme
    if scheme in ("redis", "rediss"):
        # Not Broadcast(url): broadcaster's own Redis backend never reconnects.
        return Broadcast(backend=RedisBackend(url))
    if scheme == "memory":
        return Broadcast(url)
    raise ValueError(
        f"unsupported broadcast URL scheme {scheme!r} (expected redis://, rediss:// or memory://)"
    )
