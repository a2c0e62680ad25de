"""Anonymising an account: what an admin's delete (user_admin.py) and a user's own erasure
(privacy.py, GDPR Art. 17) share.

The user row stays, so orders, invoices, payments and refunds keep pointing at it (their foreign
keys RESTRICT), but it holds no email, name, phone, password or roles. Sessions end, API keys are
revoked, MFA secrets and recovery codes, OAuth links, verification secrets, the cart and data
exports are deleted. Consent records stay as the anonymised user's history, without IP and user
agent."""

from __future__ import annotations

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.identity.accounts import AuthSession, User, UserRole, UserStatus
from models.identity.api_keys import ApiKey
from models.identity.mfa import MfaChallenge, MfaCredential, MfaRecoveryCode
from models.identity.oauth import UserIdentity
from models.identity.privacy import ConsentRecord, DataExport
from models.identity.verification import VerificationChallenge
from models.orders import Cart
from services.events import record_access_change
from services.identity.accounts import record_user_change
from services.identity.auth import end_sessions

DELETED_NAME = "Deleted user"
# No argon2 hash looks like this: verifying any password against it fails (passwords.py).
UNUSABLE_PASSWORD = "!unusable"
# Rows only of the user, gone with the account (the user's own, or secrets).
_DELETED_WITH_USER = (
    UserRole,
    MfaCredential,
    MfaRecoveryCode,
    MfaChallenge,
    UserIdentity,
    VerificationChallenge,
    DataExport,
    Cart,
)


async def anonymise_user(session: AsyncSession, user: User, reason: str) -> User:
    """Anonymises ``user`` (locked by the caller) in ``session``; ``reason`` names why its sessions
    ended and its API keys were revoked (e.g. ``user_deleted``, ``user_erased``)."""
    # .invalid is reserved (RFC 2606): the address can never receive mail or be registered.
    user.email = f"deleted-{user.id.hex}@deleted.invalid"
    user.full_name = DELETED_NAME
    user.phone = user.username = user.first_name = user.last_name = None
    user.phone_verified = False
    user.password_hash = UNUSABLE_PASSWORD
    user.status = UserStatus.DELETED
    user.email_verified = user.must_change_password = user.mfa_enabled = False
    user.affiliate_code = user.last_login_at = None
    user.banned_at = user.banned_until = user.ban_reason = None
    for model in _DELETED_WITH_USER:
        await session.execute(delete(model).where(model.user_id == user.id))
    await session.execute(
        update(ApiKey)
        .where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoke_reason=reason)
    )
    await session.execute(
        update(ConsentRecord).where(ConsentRecord.user_id == user.id).values(ip_address=None, user_agent=None)
    )
    await end_sessions(session, reason, AuthSession.user_id == user.id)
    record_access_change(session, users=[user.id])
    return record_user_change(session, user, "deleted")
