"""Whether a ban stops a user signing in now (the ban itself: services/identity/user_admin.py).

Apart from user_admin so that sign-in (services/identity/auth.py) can ask without importing the
administration that imports it."""

from __future__ import annotations

from datetime import datetime

from core.errors import InvalidInput, invalid
from models.base import utcnow
from models.identity.accounts import User
from services.identity.errors import IdentityErrorCode


def banned_now(user: User) -> bool:
    """Banned, and the unblock date (if any) not reached: once it is, no admin needs to lift it."""
    return banned_at(user.banned_at, user.banned_until, utcnow())


def banned_at(banned_since: datetime | None, banned_until: datetime | None, now: datetime) -> bool:
    """``banned_now`` of these columns at ``now`` (for the access store's join)."""
    return banned_since is not None and (banned_until is None or banned_until > now)


def ban_refusal(user: User) -> InvalidInput | None:
    """ACCOUNT_BANNED, naming the unblock date, while the user is banned; None otherwise."""
    if not banned_now(user):
        return None
    if user.banned_until is None:
        return invalid(
            None, IdentityErrorCode.ACCOUNT_BANNED, "This account is banned until an administrator lifts it."
        )
    return invalid(
        None,
        IdentityErrorCode.ACCOUNT_BANNED,
        f"This account is banned until {user.banned_until.isoformat()}.",
    )
