"""Waiting until a server process listens on a Redis broadcast channel (subscribing is not
acknowledged to the client)."""

from __future__ import annotations

import asyncio
import time

from redis.asyncio import Redis


async def wait_listened(redis_url: str, channel: str, within: float = 5.0) -> None:
    """Until someone listens on ``channel``; then a moment for the other subscriptions of the same
    process to register locally."""
    client = Redis.from_url(redis_url)
    try:
        deadline = time.monotonic() + within
        while True:
            [(_, count)] = await client.pubsub_numsub(channel)
            if count >= 1:
                break
            assert time.monotonic() < deadline, f"nobody listens on {channel}"
            await asyncio.sleep(0.02)
    finally:
        await client.aclose()
    await asyncio.sleep(0.3)
