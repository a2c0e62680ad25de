"""Roles of a tenant (seeds 000 and 004): the fixed system roles with their default permissions,
and custom roles — named sets of `resource:action` permissions from the catalogue (built-in and
custom, services/identity/permission_catalogue.py) — that tenant admins create, change, delete,
grant or revoke one permission at a time, and assign.

System roles are listed but read-only. A custom role still held by users is not deleted
(ROLE_IN_USE): remove it from them first, so that nobody loses access as a side effect. Every
change of what a user holds records an access change for the users concerned (their sessions'
cached access is dropped at once, services/identity/access.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import BadUserInput, FieldProblem, Forbidden, InvalidInput, NotFound, invalid
from core.permissions import SYSTEM_ROLE_PERMISSIONS, TENANT_ADMINS, TENANT_ROLES, Role
from core.principal import Principal
from loaders.pagination import Page, PageArgs, SortKey, paginate
from models.base import utcnow
from models.db import locked_or_not_found
from models.identity.accounts import User
from models.identity.roles import CustomRole, UserCustomRole
from services.context import ServiceContext
from services.events import record_access_change
from services.identity.accounts import reject, roles_of
from services.identity.errors import IdentityErrorCode
from services.identity.permission_catalogue import (
    BUILTIN,
    MAX_CUSTOM_PERMISSIONS,
    MAX_PART_LENGTH,
    PermissionRef,
    resolve,
    unknown_keys,
)
from services.identity.users import change_roles

MAX_ROLE_NAME = 64
MAX_ROLE_DESCRIPTION = 500
MAX_PERMISSION_LENGTH = 2 * MAX_PART_LENGTH + 1  # resource:action
# No role grants more than the whole catalogue: a longer list is refused before it is looked up.
MAX_ROLE_PERMISSIONS = len(BUILTIN) + MAX_CUSTOM_PERMISSIONS
ROLES_READ = "roles:read"
ROLES_WRITE = "roles:write"

SYSTEM_ROLE_DESCRIPTIONS = {
    Role.TENANT_ADMIN: "Administers the tenant: users, roles, settings, billing, order operations.",
    Role.MANAGER: "Runs the shop: catalog, all orders and invoices, statistics, reviews.",
    Role.SUPPORT_AGENT: "Helps customers: reads orders and billing; moderates reviews.",
    Role.AUDITOR: "Reviews the tenant: reads the audit log and roles; no changes.",
    Role.USER: "A customer: their own account, cart, orders and billing.",
}


@dataclass(frozen=True, slots=True)
class RoleView:
    """A role as the API shows it: a system role (``custom`` None) or a custom one."""

    name: str
    description: str
    permissions: tuple[str, ...]
    custom: CustomRole | None = None

    @property
    def system(self) -> bool:
        return self.custom is None

    @staticmethod
    def of_system(role: Role) -> RoleView:
        return RoleView(
            role.value, SYSTEM_ROLE_DESCRIPTIONS[role], tuple(sorted(SYSTEM_ROLE_PERMISSIONS[role]))
        )

    @staticmethod
    def of_custom(role: CustomRole) -> RoleView:
        return RoleView(role.name, role.description, tuple(role.permissions), role)


@dataclass(frozen=True, slots=True)
class RoleRef:
    """A role named by its id (custom roles) or its name (system or custom): exactly one."""

    role_id: uuid.UUID | None = None
    role_name: str | None = None


def system_roles() -> list[RoleView]:
    return [RoleView.of_system(role) for role in TENANT_ROLES]


def _reader(ctx: ServiceContext) -> Principal:
    principal = ctx.require_principal()
    if not principal.allows(ROLES_READ, *TENANT_ADMINS):
        raise Forbidden("You are not allowed to administer roles.")
    return principal


def _writer(ctx: ServiceContext) -> uuid.UUID:
    """The tenant a role change applies to (the caller's); the caller administers roles."""
    principal = ctx.require_principal()
    if not principal.allows(ROLES_WRITE, *TENANT_ADMINS):
        raise Forbidden("You are not allowed to administer roles.")
    if principal.scope.tenant_id is None:
        raise BadUserInput("Platform administrators name the tenant with the X-Tenant-Id header.")
    return principal.scope.tenant_id


def _within_own_rights(ctx: ServiceContext, permissions: Iterable[str]) -> None:
    """Forbidden to give (to a role, or by a role to a user) a permission the caller does not hold:
    a holder of roles:write who is no tenant admin cannot raise anyone, themselves included, above
    their own rights."""
    principal = ctx.require_principal()
    if principal.has_any_role(*TENANT_ADMINS):
        return
    beyond = sorted(set(permissions) - principal.permissions)
    if beyond:
        raise Forbidden(f"You may only give permissions you hold yourself; not {', '.join(beyond[:5])}.")


async def list_custom_roles(ctx: ServiceContext, page: PageArgs) -> Page[CustomRole]:
    """The tenant's custom roles by name (one statement per page)."""
    _reader(ctx)
    return await paginate(ctx.read, select(CustomRole), SortKey(CustomRole.name, CustomRole.id), page)


async def _permission_problems(
    session: AsyncSession, permissions: Sequence[str]
) -> list[FieldProblem | None]:
    """A problem for each of ``permissions`` the catalogue lacks (the rest stay locked FOR SHARE)."""
    if len(permissions) > MAX_ROLE_PERMISSIONS:
        return [
            FieldProblem(
                ("input", "permissions"),
                IdentityErrorCode.TOO_LONG,
                f"At most {MAX_ROLE_PERMISSIONS} permissions.",
            )
        ]
    unknown = await unknown_keys(session, permissions)
    return [
        None
        if permission not in unknown
        else FieldProblem(
            ("input", "permissions", str(index)),
            IdentityErrorCode.UNKNOWN_PERMISSION,
            f"Unknown permission {permission[:80]!r}; see the `permissions` query.",
        )
        for index, permission in enumerate(permissions)
    ]


def _name_problem(name: str) -> FieldProblem | None:
    stripped = name.strip()
    if not stripped or len(stripped) > MAX_ROLE_NAME or not stripped.isprintable():
        return FieldProblem(
            ("input", "name"),
            IdentityErrorCode.INVALID_ROLE_NAME,
            f"A role name has 1 to {MAX_ROLE_NAME} printable characters.",
        )
    if stripped.upper() in Role.__members__:
        return FieldProblem(
            ("input", "name"), IdentityErrorCode.ROLE_NAME_TAKEN, "That is a system role's name."
        )
    return None


def _description_problem(description: str | None) -> FieldProblem | None:
    if description is not None and len(description) > MAX_ROLE_DESCRIPTION:
        return FieldProblem(
            ("input", "description"),
            IdentityErrorCode.TOO_LONG,
            f"At most {MAX_ROLE_DESCRIPTION} characters.",
        )
    return None


async def _name_taken(
    session: AsyncSession, name: str, other_than: uuid.UUID | None = None
) -> FieldProblem | None:
    statement = select(func.count()).select_from(CustomRole).where(CustomRole.name == name)
    if other_than is not None:
        statement = statement.where(CustomRole.id != other_than)
    return _taken_name() if await session.scalar(statement) else None


def _taken_name() -> FieldProblem:
    return FieldProblem(
        ("input", "name"), IdentityErrorCode.ROLE_NAME_TAKEN, "The tenant has a role of this name."
    )


async def _flush_name(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:  # the name was taken meanwhile, by a concurrent call
        raise InvalidInput(_taken_name()) from exc


async def create_role(
    ctx: ServiceContext, name: str, description: str, permissions: Sequence[str]
) -> CustomRole:
    tenant_id = _writer(ctx)
    reject(_name_problem(name), _description_problem(description))
    _within_own_rights(ctx, permissions)
    async with ctx.transaction() as session:
        reject(await _name_taken(session, name.strip()), *await _permission_problems(session, permissions))
        role = CustomRole(
            tenant_id=tenant_id,
            name=name.strip(),
            description=description,
            permissions=sorted(set(permissions)),
        )
        session.add(role)
        await _flush_name(session)
        return role


def _ref_problem(ref: RoleRef) -> None:
    if (ref.role_id is None) == (ref.role_name is None):
        raise invalid("roleId", IdentityErrorCode.ROLE_ID_OR_NAME, "Give exactly one of roleId and roleName.")


def _system_role(ref: RoleRef) -> Role | None:
    name = (ref.role_name or "").strip().upper()
    return Role(name) if name in Role.__members__ else None


def _read_only(role: Role) -> FieldProblem:
    return FieldProblem(
        ("input", "roleName"),
        IdentityErrorCode.SYSTEM_ROLE_READ_ONLY,
        f"{role.value} is a system role: it cannot be changed or deleted.",
    )


async def _custom_role(session: AsyncSession, ref: RoleRef, *, lock: bool) -> CustomRole:
    """The tenant's custom role ``ref`` names; ROLE_NOT_FOUND for none (the tenancy guard hides
    other tenants' roles, so their ids are not found either)."""
    if ref.role_id is not None:
        found = await session.get(CustomRole, ref.role_id, with_for_update=lock)
    else:
        statement = select(CustomRole).where(CustomRole.name == (ref.role_name or "").strip())
        found = await session.scalar(statement.with_for_update() if lock else statement)
    if found is None:
        field = "roleId" if ref.role_id is not None else "roleName"
        raise invalid(field, IdentityErrorCode.ROLE_NOT_FOUND, "The tenant has no such role.")
    return found


async def _holders(session: AsyncSession, role_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        await session.scalars(select(UserCustomRole.user_id).where(UserCustomRole.role_id == role_id))
    )


async def update_role(
    ctx: ServiceContext,
    ref: RoleRef,
    *,
    name: str | None = None,
    description: str | None = None,
    permissions: Sequence[str] | None = None,
) -> CustomRole:
    """Changes what is given; a change of permissions applies to the holders' next request."""
    _writer(ctx)
    _ref_problem(ref)
    if (system := _system_role(ref)) is not None:
        reject(_read_only(system))
    reject(_name_problem(name) if name is not None else None, _description_problem(description))
    async with ctx.transaction() as session:
        reject(*await _permission_problems(session, permissions or ()))
        role = await _custom_role(session, ref, lock=True)
        if name is not None:
            reject(await _name_taken(session, name.strip(), other_than=role.id))
            role.name = name.strip()
            await _flush_name(session)
        if description is not None:
            role.description = description
        if permissions is not None and sorted(set(permissions)) != role.permissions:
            _within_own_rights(ctx, set(permissions) - set(role.permissions))
            role.permissions = sorted(set(permissions))
            record_access_change(session, users=await _holders(session, role.id))
        role.updated_at = utcnow()
        return role


async def get_role(ctx: ServiceContext, role_id: uuid.UUID) -> CustomRole:
    """One custom role of the tenant by id; NOT_FOUND for none (another tenant's included)."""
    _reader(ctx)
    async with ctx.read() as session:
        role = await session.get(CustomRole, role_id)
    if role is None:
        raise NotFound("Role")
    return role


async def set_permission(
    ctx: ServiceContext, ref: RoleRef, permission: PermissionRef, *, granted: bool
) -> CustomRole:
    """Grants one permission to a custom role (``granted``) or revokes it, leaving the others as
    they are: the role is locked, so concurrent grants and revokes all apply. Granting a held one
    or revoking one not held changes nothing; a revoke by key needs no catalogue entry."""
    _writer(ctx)
    _ref_problem(ref)
    if (system := _system_role(ref)) is not None:
        reject(_read_only(system))
    async with ctx.transaction() as session:
        role = await _custom_role(session, ref, lock=True)
        key = await resolve(session, permission, listed=granted)
        held = set(role.permissions)
        if (key in held) == granted:
            return role
        if granted:
            _within_own_rights(ctx, [key])
        role.permissions = sorted(held | {key} if granted else held - {key})
        role.updated_at = utcnow()
        record_access_change(session, users=await _holders(session, role.id))
        return role


async def delete_role(ctx: ServiceContext, ref: RoleRef) -> uuid.UUID:
    """Deletes a custom role nobody holds (ROLE_IN_USE otherwise)."""
    _writer(ctx)
    _ref_problem(ref)
    if (system := _system_role(ref)) is not None:
        reject(_read_only(system))
    async with ctx.transaction() as session:
        role = await _custom_role(session, ref, lock=True)
        held = await session.scalar(
            select(func.count()).select_from(UserCustomRole).where(UserCustomRole.role_id == role.id)
        )
        if held:
            raise invalid(
                "roleId" if ref.role_id is not None else "roleName",
                IdentityErrorCode.ROLE_IN_USE,
                f"{held} user(s) hold this role: remove it from them first.",
            )
        await session.delete(role)
        return role.id


async def user_roles(ctx: ServiceContext, user_id: uuid.UUID) -> list[RoleView]:
    """A user's system and custom roles with their permissions (yours, or any with roles:read)."""
    principal = ctx.require_principal()
    if principal.user_id != user_id:
        _reader(ctx)
    async with ctx.read() as session:
        # Another tenant's user (hidden by the tenancy guard) or none: NOT_FOUND, not an empty list.
        if principal.user_id != user_id and await session.get(User, user_id) is None:
            raise NotFound("User")
        return await _roles_held(session, user_id)


async def _roles_held(session: AsyncSession, user_id: uuid.UUID) -> list[RoleView]:
    system = sorted(await roles_of(session, user_id))
    custom = await session.scalars(
        select(CustomRole)
        .join(UserCustomRole, UserCustomRole.role_id == CustomRole.id)
        .where(UserCustomRole.user_id == user_id)
        .order_by(CustomRole.name)
    )
    return [RoleView.of_system(role) for role in system] + [RoleView.of_custom(role) for role in custom]


async def set_role(ctx: ServiceContext, user_id: uuid.UUID, ref: RoleRef, *, held: bool) -> list[RoleView]:
    """Gives the user the role (``held``) or takes it away; system roles by name go through the
    rules of users.change_roles. Answers the user's roles afterwards."""
    _writer(ctx)
    _ref_problem(ref)
    if (system := _system_role(ref)) is not None:
        await change_roles(ctx, user_id, add=[system] if held else [], remove=[] if held else [system])
        return await user_roles(ctx, user_id)
    async with ctx.transaction() as session:
        user = await locked_or_not_found(session, User, user_id)
        # Locked: a deletion under way is waited for (ROLE_NOT_FOUND, not a foreign-key failure),
        # and its permissions, checked below, cannot change meanwhile.
        role = await _custom_role(session, ref, lock=True)
        holding = await session.get(UserCustomRole, (user.id, role.id))
        if held and holding is None:
            _within_own_rights(ctx, role.permissions)
            session.add(UserCustomRole(tenant_id=user.tenant_id, user_id=user.id, role_id=role.id))
        elif not held and holding is not None:
            await session.execute(
                delete(UserCustomRole).where(
                    UserCustomRole.user_id == user.id, UserCustomRole.role_id == role.id
                )
            )
        else:
            return await _roles_held(session, user.id)
        record_access_change(session, users=[user.id])
        await session.flush()
        return await _roles_held(session, user.id)
