"""The permission catalogue as data (seed 004 /admin/permissions): every `resource:action` a
custom role may grant, each with an id, a name and a description.

Two kinds of entry, listed together by key: the built-in ones of core/permissions.py, which the
code checks and which are never stored (their ids are derived from their keys, so they are the
same in every deployment, and nothing can change or delete them); and the custom ones platform
admins add, change and delete (table custom_permissions), platform-wide, for the tenants' custom
roles to grant. A custom permission granted by any role (of any tenant) keeps its key and is not
deleted (PERMISSION_IN_USE): revoke it from those roles first, so nobody loses access as a side
effect. Reads of the catalogue lock the custom entries they rely on (FOR SHARE), so a grant and a
deletion of the same permission cannot both succeed."""

from __future__ import annotations

import bisect
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, and_, cast, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import BadUserInput, FieldProblem, Forbidden, InvalidInput, NotFound, invalid
from core.permissions import PERMISSION_ACTIONS, PERMISSION_RESOURCES, PERMISSIONS
from core.scope import TenantScope
from loaders.pagination import DEFAULT_PAGE_SIZE, Page, PageArgs, decode_cursor, encode_cursor
from models.base import utcnow
from models.identity.roles import CustomPermission, CustomRole
from services.context import ServiceContext
from services.identity.accounts import reject
from services.identity.errors import IdentityErrorCode

MAX_PART_LENGTH = 32
MAX_PERMISSION_NAME = 64
MAX_PERMISSION_DESCRIPTION = 500
# Custom permissions of the platform, at most: the whole catalogue is read per check, kept small.
MAX_CUSTOM_PERMISSIONS = 200
# A resource or an action: lower-case letters, digits and underscores, starting with a letter.
_PART = re.compile(r"[a-z][a-z0-9_]*")
# Built-in ids are uuid5(this, key): stable across deployments without being stored.
_BUILTIN_NAMESPACE = uuid.UUID("6f1d3c9e-4a57-4f0b-9a1e-2b7c8d9e0f13")
_VERBS = {"read": "Read", "write": "Create and change", "delete": "Delete"}


@dataclass(frozen=True, slots=True)
class PermissionEntry:
    """One entry of the catalogue as the API shows it."""

    id: uuid.UUID
    resource: str
    action: str
    name: str
    description: str
    builtin: bool
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def key(self) -> str:
        return f"{self.resource}:{self.action}"

    @staticmethod
    def of_custom(row: CustomPermission) -> PermissionEntry:
        return PermissionEntry(
            row.id, row.resource, row.action, row.name, row.description, False, row.created_at, row.updated_at
        )


@dataclass(frozen=True, slots=True)
class PermissionRef:
    """A permission named by its id or its key (`resource:action`): exactly one."""

    permission_id: uuid.UUID | None = None
    key: str | None = None


def builtin_id(key: str) -> uuid.UUID:
    return uuid.uuid5(_BUILTIN_NAMESPACE, key)


BUILTIN: tuple[PermissionEntry, ...] = tuple(
    sorted(
        (
            PermissionEntry(
                builtin_id(f"{resource}:{action}"),
                resource,
                action,
                f"{action}_{resource}",
                f"{_VERBS[action]} {resource.replace('_', ' ')}.",
                True,
            )
            for resource in PERMISSION_RESOURCES
            for action in PERMISSION_ACTIONS
        ),
        key=lambda entry: entry.key,
    )
)
_BUILTIN_BY_ID = {entry.id: entry for entry in BUILTIN}
_BUILTIN_BY_KEY = {entry.key: entry for entry in BUILTIN}


@dataclass(frozen=True, slots=True)
class PermissionFilter:
    resource: str | None = None
    builtin: bool | None = None


# ---- reading --------------------------------------------------------------------------------


async def _custom_rows(session: AsyncSession) -> list[CustomPermission]:
    return list(await session.scalars(select(CustomPermission)))


async def catalogue(session: AsyncSession) -> list[PermissionEntry]:
    """Every entry, built-in and custom, by key (one statement)."""
    custom = [PermissionEntry.of_custom(row) for row in await _custom_rows(session)]
    return sorted([*BUILTIN, *custom], key=lambda entry: entry.key)


async def grantable_keys(ctx: ServiceContext) -> list[str]:
    """The keys of every entry, sorted: what a custom role may grant."""
    async with ctx.read(TenantScope.all_tenants()) as session:
        return [entry.key for entry in await catalogue(session)]


def _page(entries: list[PermissionEntry], args: PageArgs) -> Page[PermissionEntry]:
    """A page of the (small, sorted) catalogue, with keyset cursors on the key as the lists of
    loaders/pagination.py have."""
    args = args.validated()
    keys = [entry.key for entry in entries]
    start = bisect.bisect_right(keys, _cursor_key(args.after)) if args.after else 0
    end = bisect.bisect_left(keys, _cursor_key(args.before)) if args.before else len(entries)
    window = entries[start:end] if start < end else []
    forward = args.last is None
    asked = args.first if forward else args.last
    size = DEFAULT_PAGE_SIZE if asked is None else asked
    rows = window[:size] if forward else window[len(window) - min(size, len(window)) :]
    has_more = len(window) > size
    total = len(entries)

    async def count() -> int:
        return total

    return Page(
        rows=rows,
        cursors=[encode_cursor(entry.key, entry.id) for entry in rows],
        has_next_page=has_more if forward else bool(args.before),
        has_previous_page=bool(args.after) if forward else has_more,
        count=count,
    )


def _cursor_key(cursor: str) -> str:
    key, _ = decode_cursor(cursor)
    if not isinstance(key, str):
        raise BadUserInput("The cursor is not valid.")
    return key


async def list_permissions(
    ctx: ServiceContext, page: PageArgs, where: PermissionFilter
) -> Page[PermissionEntry]:
    ctx.require_principal()
    async with ctx.read(TenantScope.all_tenants()) as session:
        entries = await catalogue(session)
    kept = [
        entry
        for entry in entries
        if (where.resource is None or entry.resource == where.resource)
        and (where.builtin is None or entry.builtin == where.builtin)
    ]
    return _page(kept, page)


async def _custom(session: AsyncSession, permission_id: uuid.UUID, *, lock: bool) -> CustomPermission | None:
    return await session.get(CustomPermission, permission_id, with_for_update=lock)


async def get_permission(ctx: ServiceContext, permission_id: uuid.UUID) -> PermissionEntry:
    ctx.require_principal()
    if (builtin := _BUILTIN_BY_ID.get(permission_id)) is not None:
        return builtin
    async with ctx.read(TenantScope.all_tenants()) as session:
        row = await _custom(session, permission_id, lock=False)
    if row is None:
        raise NotFound("Permission")
    return PermissionEntry.of_custom(row)


def _split(key: str) -> tuple[str, str] | None:
    resource, colon, action = key.partition(":")
    return (resource, action) if colon and resource and action else None


async def unknown_keys(session: AsyncSession, keys: Iterable[str]) -> set[str]:
    """Those of ``keys`` the catalogue lacks. The custom entries found are locked FOR SHARE until
    the transaction ends (their deletion or change of key waits for it)."""
    wanted = {key for key in keys if key not in PERMISSIONS}
    parts = [split for key in sorted(wanted) if (split := _split(key)) is not None]
    if not parts:
        return wanted
    statement = select(CustomPermission.resource, CustomPermission.action).where(
        or_(*(and_(CustomPermission.resource == r, CustomPermission.action == a) for r, a in parts))
    )
    found = {f"{r}:{a}" for r, a in await session.execute(statement.with_for_update(read=True))}
    return wanted - found


async def resolve(session: AsyncSession, ref: PermissionRef, *, listed: bool = True) -> str:
    """The key ``ref`` names (its custom entry locked FOR SHARE); UNKNOWN_PERMISSION for none.
    A key given need not be ``listed`` in the catalogue (revoking one no longer listed)."""
    if (ref.permission_id is None) == (ref.key is None):
        raise invalid(
            "permissionId",
            IdentityErrorCode.PERMISSION_ID_OR_KEY,
            "Give exactly one of permissionId and permission.",
        )
    if ref.permission_id is None:
        if listed and await unknown_keys(session, [ref.key or ""]):
            raise invalid(
                "permission", IdentityErrorCode.UNKNOWN_PERMISSION, "No such permission in the catalogue."
            )
        return ref.key or ""
    if (builtin := _BUILTIN_BY_ID.get(ref.permission_id)) is not None:
        return builtin.key
    statement = select(CustomPermission).where(CustomPermission.id == ref.permission_id)
    row = await session.scalar(statement.with_for_update(read=True))
    if row is None:
        raise invalid(
            "permissionId", IdentityErrorCode.UNKNOWN_PERMISSION, "No such permission in the catalogue."
        )
    return row.key


# ---- platform administration ----------------------------------------------------------------


def _administrator(ctx: ServiceContext) -> None:
    if not ctx.require_principal().is_platform_admin:
        raise Forbidden("Only platform administrators change the permission catalogue.")


def _part_problem(field: str, value: str | None) -> FieldProblem | None:
    if value is None or (_PART.fullmatch(value) and len(value) <= MAX_PART_LENGTH):
        return None
    return FieldProblem(
        ("input", field),
        IdentityErrorCode.INVALID_PERMISSION,
        f"1 to {MAX_PART_LENGTH} lower-case letters, digits or underscores, starting with a letter.",
    )


def _text_problems(name: str | None, description: str | None) -> list[FieldProblem | None]:
    problems: list[FieldProblem | None] = []
    if name is not None and not (0 < len(name.strip()) <= MAX_PERMISSION_NAME and name.isprintable()):
        problems.append(
            FieldProblem(
                ("input", "name"),
                IdentityErrorCode.INVALID_PERMISSION,
                f"A name has 1 to {MAX_PERMISSION_NAME} printable characters.",
            )
        )
    if description is not None and len(description) > MAX_PERMISSION_DESCRIPTION:
        problems.append(
            FieldProblem(
                ("input", "description"),
                IdentityErrorCode.TOO_LONG,
                f"At most {MAX_PERMISSION_DESCRIPTION} characters.",
            )
        )
    return problems


def _taken(key: str) -> FieldProblem:
    kind = "a built-in" if key in PERMISSIONS else "another"
    return FieldProblem(
        ("input", "resource"), IdentityErrorCode.PERMISSION_TAKEN, f"{key} is {kind} permission's key."
    )


async def _key_taken(
    session: AsyncSession, resource: str, action: str, other_than: uuid.UUID | None = None
) -> bool:
    if f"{resource}:{action}" in PERMISSIONS:
        return True
    statement = (
        select(func.count())
        .select_from(CustomPermission)
        .where(CustomPermission.resource == resource, CustomPermission.action == action)
    )
    if other_than is not None:
        statement = statement.where(CustomPermission.id != other_than)
    return bool(await session.scalar(statement))


async def _granting_roles(session: AsyncSession, key: str) -> int:
    """How many custom roles, of every tenant, grant ``key`` (the JSON list holds it quoted)."""
    statement = (
        select(func.count())
        .select_from(CustomRole)
        .where(cast(CustomRole.permissions, String).contains(f'"{key}"', autoescape=True))
    )
    return int(await session.scalar(statement) or 0)


def _read_only(permission_id: uuid.UUID) -> None:
    if permission_id in _BUILTIN_BY_ID:
        raise invalid(
            "id", IdentityErrorCode.PERMISSION_READ_ONLY, "Built-in permissions cannot be changed or deleted."
        )


def _not_found() -> InvalidInput:
    return invalid("id", IdentityErrorCode.PERMISSION_NOT_FOUND, "The catalogue has no such permission.")


async def create_permission(
    ctx: ServiceContext, resource: str, action: str, name: str | None, description: str
) -> PermissionEntry:
    _administrator(ctx)
    reject(
        _part_problem("resource", resource),
        _part_problem("action", action),
        *_text_problems(name, description),
    )
    async with ctx.transaction(TenantScope.all_tenants()) as session:
        if await _key_taken(session, resource, action):
            reject(_taken(f"{resource}:{action}"))
        if (
            await session.scalar(select(func.count()).select_from(CustomPermission)) or 0
        ) >= MAX_CUSTOM_PERMISSIONS:
            raise invalid(
                None,
                IdentityErrorCode.TOO_MANY_PERMISSIONS,
                f"At most {MAX_CUSTOM_PERMISSIONS} custom permissions.",
            )
        row = CustomPermission(
            resource=resource,
            action=action,
            name=(name or "").strip() or f"{action}_{resource}",
            description=description,
        )
        session.add(row)
        try:
            await session.flush()
        except IntegrityError as exc:  # created meanwhile by a concurrent call
            raise InvalidInput(_taken(f"{resource}:{action}")) from exc
        return PermissionEntry.of_custom(row)


async def update_permission(
    ctx: ServiceContext,
    permission_id: uuid.UUID,
    *,
    resource: str | None = None,
    action: str | None = None,
    name: str | None = None,
    description: str | None = None,
) -> PermissionEntry:
    """Changes what is given of a custom permission; a new key only while no role grants it."""
    _administrator(ctx)
    _read_only(permission_id)
    reject(
        _part_problem("resource", resource),
        _part_problem("action", action),
        *_text_problems(name, description),
    )
    async with ctx.transaction(TenantScope.all_tenants()) as session:
        row = await _custom(session, permission_id, lock=True)
        if row is None:
            raise _not_found()
        new_resource, new_action = resource or row.resource, action or row.action
        if (new_resource, new_action) != (row.resource, row.action):
            if await _key_taken(session, new_resource, new_action, other_than=row.id):
                reject(_taken(f"{new_resource}:{new_action}"))
            if granted := await _granting_roles(session, row.key):
                raise _in_use(granted, "change its key")
            row.resource, row.action = new_resource, new_action
        if name is not None:
            row.name = name.strip()
        if description is not None:
            row.description = description
        row.updated_at = utcnow()
        try:
            await session.flush()
        except IntegrityError as exc:  # the new key was taken meanwhile
            raise InvalidInput(_taken(row.key)) from exc
        return PermissionEntry.of_custom(row)


def _in_use(granted: int, what: str) -> InvalidInput:
    return invalid(
        "id",
        IdentityErrorCode.PERMISSION_IN_USE,
        f"{granted} custom role(s) grant this permission: revoke it from them to {what}.",
    )


async def delete_permission(ctx: ServiceContext, permission_id: uuid.UUID) -> uuid.UUID:
    """Deletes a custom permission no role grants (PERMISSION_IN_USE otherwise)."""
    _administrator(ctx)
    _read_only(permission_id)
    async with ctx.transaction(TenantScope.all_tenants()) as session:
        row = await _custom(session, permission_id, lock=True)
        if row is None:
            raise _not_found()
        if granted := await _granting_roles(session, row.key):
            raise _in_use(granted, "delete it")
        await session.delete(row)
        return permission_id
