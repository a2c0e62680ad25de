"""Access directives: declared on fields, printed in schema.graphql, enforced by one mechanism.

Each directive is the visible face of a strawberry permission; ``access(...)`` puts both on a field
(the permission's PermissionExtension prints the directive and checks it on every resolution,
subscriptions included). Every root field must carry one: tests/test_access_directives.py fails
otherwise, so nothing is reachable by default."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.schema_directive import Location
from strawberry.types import Info

from core.errors import Forbidden, Unauthenticated
from core.permissions import Role

strawberry.enum(Role, description="What a user may do. PLATFORM_ADMIN acts across tenants.")


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


ACCESS_DIRECTIVE_NAMES = frozenset({"public", "auth", "hasRole"})


def _principal(info: Info) -> Any:
    return info.context.principal


class Public(BasePermission):
    _schema_directive = PublicDirective()

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return True


class Authenticated(BasePermission):
    _schema_directive = AuthDirective()

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


PUBLIC = Public()
AUTHENTICATED = Authenticated()
