"""The sign-in identities linked to my account (OAuth / OIDC providers, Telegram): listing them
and unlinking one. An account keeps at least one way to sign in: its last identity is not unlinked
while it has no password (accounts made by a provider have none)."""

from __future__ import annotations

import uuid
from functools import partial

from sqlalchemy import func, select

from core.errors import NotFound, invalid
from core.principal import Principal
from core.scope import TenantScope
from loaders.pagination import Page, PageArgs, SortKey, paginate
from models.identity.accounts import User
from models.identity.oauth import UserIdentity
from services.context import ServiceContext
from services.identity.errors import IdentityErrorCode

NEWEST_FIRST = SortKey(UserIdentity.created_at, UserIdentity.id, descending=True)


def _home(principal: Principal) -> TenantScope:
    # A user's identities are in their home tenant, also while a platform admin acts in another.
    return TenantScope.of(principal.home_tenant_id)


def signs_in_with_password(user: User) -> bool:
    # Accounts without a password (made by a provider, anonymised) hold a marker starting with "!",
    # which no argon2 hash does.
    return not user.password_hash.startswith("!")


async def list_my_identities(ctx: ServiceContext, page: PageArgs) -> Page[UserIdentity]:
    principal = ctx.require_principal()
    statement = select(UserIdentity).where(UserIdentity.user_id == principal.user_id)
    return await paginate(partial(ctx.read, _home(principal)), statement, NEWEST_FIRST, page)


async def unlink_identity(ctx: ServiceContext, identity_id: uuid.UUID) -> UserIdentity:
    """Unlinks one of the caller's identities: it no longer signs in as them (its sessions stay
    open; revoke them apart). Another user's is NOT_FOUND, like one that does not exist."""
    principal = ctx.require_principal()
    async with ctx.transaction(_home(principal)) as session:
        # The user row is locked first: two unlinks at once cannot both leave "another way".
        user = await session.get_one(User, principal.user_id, with_for_update=True)
        identity = await session.get(UserIdentity, identity_id)
        if identity is None or identity.user_id != user.id:
            raise NotFound("LinkedIdentity")
        others = await session.scalar(
            select(func.count())
            .select_from(UserIdentity)
            .where(UserIdentity.user_id == user.id, UserIdentity.id != identity.id)
        )
        if not others and not signs_in_with_password(user):
            raise invalid(
                "id",
                IdentityErrorCode.LAST_SIGN_IN_METHOD,
                "This is your last way to sign in: set a password (password reset) or link another "
                "provider first.",
            )
        await session.delete(identity)
        await session.flush()
        return identity
