"""Users of a tenant: profile, administration (status, roles) and the users connection."""

from __future__ import annotations

import enum
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy import Select, delete, func, or_, select

from core.errors import Forbidden, invalid
from core.permissions import PLATFORM_ADMINS, TENANT_ADMINS, USER_READERS, USERS_READ, Role
from core.principal import Principal
from core.scope import TenantScope
from loaders import Loaders
from loaders.pagination import Page, PageArgs, SortKey, paginate
from models.db import Database, locked_or_not_found
from models.identity.accounts import AuthSession, User, UserRole, UserStatus
from realtime.fanout import Fanout
from services.context import ServiceContext
from services.events import USER_UPDATED, record_access_change
from services.identity.access import AccessStore
from services.identity.accounts import (
    checked_email,
    email_clash,
    email_problem,
    name_problem,
    record_user_change,
    reject,
    roles_of,
    search_term,
)
from services.identity.auth import end_sessions
from services.identity.errors import IdentityErrorCode
from services.identity.live import Messenger, live_events, only_id
from services.identity.profile import apply_profile, checked_profile
from services.identity.user_admin import not_deleted


class UserOrderField(enum.StrEnum):
    CREATED_AT = "CREATED_AT"
    EMAIL = "EMAIL"
    NAME = "NAME"


_ORDER_COLUMNS = {
    UserOrderField.CREATED_AT: User.created_at,
    UserOrderField.EMAIL: User.email,
    UserOrderField.NAME: User.full_name,
}


@dataclass(frozen=True, slots=True)
class UserFilter:
    status: UserStatus | None = None
    role: Role | None = None
    search: str | None = None


# The admin roles nobody may remove from themself (one slip and they are locked out).
ADMIN_ROLES = frozenset({*TENANT_ADMINS, *PLATFORM_ADMINS})


def _filtered(user_filter: UserFilter) -> Select[User]:
    statement = select(User)
    if user_filter.status:
        statement = statement.where(User.status == user_filter.status)
    if user_filter.role:
        statement = statement.where(
            User.id.in_(select(UserRole.user_id).where(UserRole.role == user_filter.role))
        )
    if term := search_term(user_filter.search):
        # autoescape: % and _ in the search are plain characters, not wildcards.
        statement = statement.where(
            or_(
                User.email.contains(term, autoescape=True),
                func.lower(User.full_name).contains(term, autoescape=True),
            )
        )
    return statement


async def list_users(
    ctx: ServiceContext,
    user_filter: UserFilter,
    order: UserOrderField,
    descending: bool,
    page: PageArgs,
) -> Page[User]:
    if not ctx.require_principal().allows(USERS_READ, *USER_READERS):
        raise Forbidden("You are not allowed to do this.")
    column = _ORDER_COLUMNS[order]

    return await paginate(ctx.read, _filtered(user_filter), SortKey(column, User.id, descending), page)


def can_read_user(ctx: ServiceContext, user_id: uuid.UUID) -> bool:
    principal = ctx.principal
    return principal is not None and (
        principal.user_id == user_id or principal.allows(USERS_READ, *USER_READERS)
    )


async def update_me(
    ctx: ServiceContext, full_name: str | None, profile: Mapping[str, object] | None = None
) -> User:
    """Changes the caller's name and the profile fields given (services/identity/profile.py)."""
    principal = ctx.require_principal()
    reject(name_problem("fullName", full_name) if full_name is not None else None)
    checked = checked_profile(profile or {})
    async with ctx.transaction() as session:
        user = await locked_or_not_found(session, User, principal.user_id)
        if full_name is not None:
            user.full_name = full_name.strip()
        apply_profile(user, checked)
        return record_user_change(session, user, "profile")


async def update_user(
    ctx: ServiceContext,
    user_id: uuid.UUID,
    *,
    full_name: str | None,
    email: str | None,
    email_verified: bool | None,
) -> User:
    ctx.require_role(*TENANT_ADMINS)
    reject(
        name_problem("fullName", full_name) if full_name is not None else None,
        email_problem("email", email) if email is not None else None,
    )
    address = checked_email(email) if email is not None else None
    async with ctx.transaction() as session:
        user = not_deleted(await locked_or_not_found(session, User, user_id))
        if address is not None and address.address != user.email:
            await email_clash(session, user.tenant_id, address, field="email", other_than=user.id)
            user.email = address.address
        if full_name is not None:
            user.full_name = full_name.strip()
        if email_verified is not None:
            user.email_verified = email_verified
        return record_user_change(session, user, "profile")


async def set_user_status(ctx: ServiceContext, user_id: uuid.UUID, status: UserStatus) -> User:
    principal = ctx.require_role(*TENANT_ADMINS)
    if user_id == principal.user_id and status == UserStatus.SUSPENDED:
        raise invalid("id", IdentityErrorCode.CANNOT_SUSPEND_SELF, "You cannot suspend your own account.")
    async with ctx.transaction() as session:
        user = not_deleted(await locked_or_not_found(session, User, user_id))
        if user.status == status:
            return user
        user.status = status
        record_access_change(session, users=[user.id])
        if status == UserStatus.SUSPENDED:
            await end_sessions(session, "user_suspended", AuthSession.user_id == user.id)
        return record_user_change(session, user, status.value.lower())


async def change_roles(
    ctx: ServiceContext, user_id: uuid.UUID, add: Iterable[Role] = (), remove: Iterable[Role] = ()
) -> User:
    principal = ctx.require_role(*TENANT_ADMINS)
    add, remove = set(add), set(remove)
    if Role.PLATFORM_ADMIN in add | remove and not principal.is_platform_admin:
        raise Forbidden("Only platform administrators grant or remove PLATFORM_ADMIN.")
    if user_id == principal.user_id and remove & ADMIN_ROLES:
        raise invalid("roles", IdentityErrorCode.CANNOT_DEMOTE_SELF, "You cannot remove your own admin role.")
    async with ctx.transaction() as session:
        user = not_deleted(await locked_or_not_found(session, User, user_id))
        current = await roles_of(session, user.id)
        for role in add - current:
            session.add(UserRole(tenant_id=user.tenant_id, user_id=user.id, role=role))
        if remove:
            await session.execute(
                delete(UserRole).where(UserRole.user_id == user.id, UserRole.role.in_(remove))
            )
        record_access_change(session, users=[user.id])
        return record_user_change(session, user, "roles")


@dataclass(frozen=True, slots=True)
class UserChanged:
    """One userUpdated event as every subscriber of this process gets it: the user read once for
    the event, and the loaders its relations load through (shared: one read per relation)."""

    user: User
    loaders: Loaders
    # What the API layer makes of the event once for all its subscribers (its GraphQL payload).
    memo: dict[str, Any] = field(default_factory=dict, compare=False)


async def load_user_change(db: Database, message: dict[str, Any]) -> UserChanged | None:
    """The event's user as they are now, in the event's tenant; None when they are gone."""
    loaders = Loaders(db, TenantScope.of(uuid.UUID(message["tenantId"])))
    user: User | None = await loaders.identity.user.load(uuid.UUID(message["payload"]["userId"]))
    return UserChanged(user, loaders) if user is not None else None


def _user_visible(only: uuid.UUID | None, principal: Principal, change: UserChanged) -> bool:
    user_id = change.user.id
    return only_id(only, user_id) and (
        user_id == principal.user_id or principal.allows(USERS_READ, *USER_READERS)
    )


def user_updates(
    services: ServiceContext,
    fanout: Fanout,
    access: AccessStore,
    only: uuid.UUID | None,
    messenger: Messenger[UserChanged] | None = None,
) -> AsyncIterator[UserChanged]:
    """Users of the caller's tenant as they change: staff see every user, others themselves.

    Each event's user is read once per process; who sees it is decided in memory, with the
    subscriber's principal from the access store."""
    prepare = partial(load_user_change, services.db)
    visible = partial(_user_visible, only)
    return live_events(services, fanout, access, USER_UPDATED, prepare, visible, messenger)
