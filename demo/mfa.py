"""The demo MFA account: a user of the acme tenant with TOTP on, under a secret printed by
seed-demo and written in the README, so that a developer can add it to an authenticator app and
sign in with login, then completeMfaLogin."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.permissions import Role
from models.identity.accounts import Tenant
from models.identity.mfa import MfaCredential, MfaRecoveryCode
from services.identity.bootstrap import ensure_user
from services.identity.totp import encrypt_secret, hash_recovery_code

DEMO_MFA_TENANT = "acme"
DEMO_MFA_EMAIL = "mfa@acme.example"
# Public on purpose (a demo): base32, as an authenticator app takes it.
DEMO_MFA_SECRET = "TENANTGRAPHDEMOMFATOTPSECRET2345"
DEMO_MFA_RECOVERY_CODES = tuple(f"demo-code-{number:02d}" for number in range(1, 11))
DEMO_MFA_ROLES = (Role.USER,)


async def seed_demo_mfa(session: AsyncSession, tenant: Tenant, password: str, encryption_key: str) -> None:
    """Creates the MFA account once; a later run leaves it as it is (MFA turned off stays off)."""
    user, created = await ensure_user(
        session, tenant, DEMO_MFA_EMAIL, f"{tenant.name} MFA User", password, DEMO_MFA_ROLES
    )
    if not created:
        return
    user.mfa_enabled = True
    session.add(
        MfaCredential(
            tenant_id=tenant.id,
            user_id=user.id,
            secret_ciphertext=encrypt_secret(encryption_key, user.id, DEMO_MFA_SECRET),
        )
    )
    session.add_all(
        MfaRecoveryCode(tenant_id=tenant.id, user_id=user.id, code_hash=hash_recovery_code(user.id, code))
        for code in DEMO_MFA_RECOVERY_CODES
    )
