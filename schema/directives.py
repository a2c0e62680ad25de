"""Access directives: declared on fields, printed in schema.graphql, enforced by one mechanism.

Each directive is the visible face of a strawberry permission; ``access(...)`` puts both on a field
(the permission's PermissionExtension prints the directive and checks it on every resolution,
subscriptions included). Every root field must carry one: tests/test_access_directives.py fails
otherwise, so nothing is reachable by default."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLObjectType, GraphQLSchema
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.schema_directive import Location
from strawberry.types import Info

from core.errors import Forbidden, Unauthenticated
from core.permissions import Role
from schema.enums import documented_enum

documented_enum(
    Role,
    "What a user may do. Roles are held in one tenant; PLATFORM_ADMIN acts across tenants.",
    {
        Role.PLATFORM_ADMIN: "Operates the platform: every tenant, and every right of every tenant role.",
        Role.TENANT_ADMIN: "Administers the tenant: users, roles, settings, billing, order operations.",
        Role.MANAGER: "Runs the shop: catalog, all orders and invoices, statistics, reviews.",
        Role.SUPPORT_AGENT: "Helps customers: reads users, orders and billing; moderates reviews.",
        Role.AUDITOR: "Reads the tenant's users for review; no changes.",
        Role.USER: "A customer: their own account, cart, orders and billing.",
    },
)


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="public",
    description="Anyone may call this field, signed in or not.",
)
class PublicDirective:
    pass


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="auth",
    description="Any signed-in user may call this field.",
)
class AuthDirective:
    pass


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="hasRole",
    description="Signed-in users holding one of these roles may call this field (PLATFORM_ADMIN always may).",
)
class HasRoleDirective:
    roles: list[Role]


# strawberry drops the descriptions of schema-directive arguments: describe_access sets it.
ROLES_ARGUMENT_DESCRIPTION = "The roles in the tenant, any one of which suffices."


ACCESS_DIRECTIVE_NAMES = frozenset({"public", "auth", "hasRole"})


def _principal(info: Info) -> Any:
    return info.context.principal


class Public(BasePermission):
    _schema_directive = PublicDirective()
    access_note = "Access: anyone, signed in or not."

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return True


class Authenticated(BasePermission):
    _schema_directive = AuthDirective()
    access_note = "Requires: a signed-in user."

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return _principal(info) is not None

    def on_unauthorized(self) -> None:
        raise Unauthenticated("Sign in first.")


class HasRole(BasePermission):
    def __init__(self, *roles: Role) -> None:
        self.roles = roles

    @property
    def schema_directive(self) -> object:
        return HasRoleDirective(roles=list(self.roles))

    @property
    def access_note(self) -> str:
        names = [role.value for role in self.roles]
        if names == [Role.PLATFORM_ADMIN.value]:
            return "Requires: PLATFORM_ADMIN."
        listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
        return f"Requires: {listed} in the tenant (or PLATFORM_ADMIN)."

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = _principal(info)
        if principal is None:
            raise Unauthenticated("Sign in first.")
        return bool(principal.has_any_role(*self.roles))

    def on_unauthorized(self) -> None:
        raise Forbidden("You are not allowed to do this.")


def access(permission: BasePermission) -> list[FieldExtension]:
    """The field extensions that declare and enforce ``permission``."""
    return [PermissionExtension([permission])]


def describe_access(schema: GraphQLSchema) -> None:
    """Appends each field's access note (from the permission that enforces it) to its description,
    so that the documentation cannot drift from the check."""
    has_role = schema.get_directive("hasRole")
    if has_role is not None:
        has_role.args["roles"].description = ROLES_ARGUMENT_DESCRIPTION
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for field in type_.fields.values():
            definition = field.extensions.get("strawberry-definition")
            notes = [
                permission.access_note
                for extension in getattr(definition, "extensions", ())
                if isinstance(extension, PermissionExtension)
                for permission in extension.permissions
                if isinstance(permission, Public | Authenticated | HasRole)
            ]
            for note in notes:
                field.description = _with_note(field.description, note)


def _with_note(description: str | None, note: str) -> str:
    if not description:
        return note
    if description.endswith(note):
        return description  # described by a schema built before (the types are shared)
    return f"{description.rstrip().rstrip('.')}. {note}"


PUBLIC = Public()
AUTHENTICATED = Authenticated()
