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
from core.permissions import SERVICE_ONLY as SERVICE_ONLY_ROLES
from core.permissions import Role
from core.principal import PrincipalKind
from core.scopes import ApiScope, RefusalReason
from schema.enums import documented_enum

documented_enum(
    Role,
    "What a user may do. Roles are held in one tenant; PLATFORM_ADMIN acts across tenants.",
    {
        Role.PLATFORM_ADMIN: "Operates the platform: every tenant, and every right of every tenant role.",
        Role.TENANT_ADMIN: "Administers the tenant: users, roles, settings, billing.",
        Role.MANAGER: "Runs the shop: catalog, all orders and invoices, statistics, reviews.",
        Role.SUPPORT_AGENT: "Helps customers: reads users, orders and billing; moderates reviews.",
        Role.AUDITOR: "Reads the tenant's users for review; no changes.",
        Role.USER: "A customer: their own account, cart, orders and billing.",
    },
)

documented_enum(
    ApiScope,
    "What an API key or service token may reach (`resource:action`): fields declare theirs with "
    "@hasScope. The API names each by its value, e.g. `orders:read` for ORDERS_READ.",
    {
        ApiScope.USERS_READ: "users:read - read users (me, and the tenant's users for staff).",
        ApiScope.USERS_WRITE: "users:write - change your profile; administer users (tenant admins).",
        ApiScope.TENANTS_READ: "tenants:read - read your tenant.",
        ApiScope.PRODUCTS_READ: "products:read - read products, categories and brands.",
        ApiScope.PRODUCTS_WRITE: "products:write - create, change and delete products, categories, brands.",
        ApiScope.REVIEWS_WRITE: "reviews:write - write and moderate reviews.",
        ApiScope.ORDERS_READ: "orders:read - read orders, the cart and order statistics.",
        ApiScope.ORDERS_WRITE: "orders:write - change the cart, place and move orders.",
        ApiScope.INVOICES_READ: "invoices:read - read invoices.",
        ApiScope.INVOICES_WRITE: "invoices:write - create, issue and send invoices.",
        ApiScope.PAYMENTS_READ: "payments:read - read payments and saved cards.",
        ApiScope.PAYMENTS_WRITE: "payments:write - start and confirm payments, manage saved cards.",
        ApiScope.USAGE_READ: "usage:read - read usage records, usage summaries and ratings.",
        ApiScope.USAGE_WRITE: "usage:write - record usage events and bill unbilled usage.",
        ApiScope.INVOICES_VOID: "invoices:void - void invoices (service-only).",
        ApiScope.PAYMENTS_PROCESS: "payments:process - confirm an order's payment (service-only).",
        ApiScope.AUDIT_WRITE: "audit:write - append audit log entries (service-only).",
        ApiScope.API_KEYS_VALIDATE: "api_keys:validate - check API keys for a gateway (service-only).",
        ApiScope.WALLET_READ: "wallet:read - read any user's wallet (service-only).",
        ApiScope.WALLET_WRITE: "wallet:write - post wallet entries, count and set usage quotas "
        "(service-only).",
        ApiScope.ORDERS_PROVISION: "orders:provision - start and complete an order's fulfilment "
        "(service-only).",
        ApiScope.ORDERS_PAYMENTS: "orders:payments - move an order's payment back to PENDING "
        "(revertPayment).",
        ApiScope.PROVISIONING_READ: "provisioning:read - read provisioning requests, statistics, "
        "instances and the workers' status.",
        ApiScope.PROVISIONING_WRITE: "provisioning:write - ask for, retry, suspend, reactivate, "
        "complete and deprovision provisioning requests.",
        ApiScope.PROVISIONING_RUN: "provisioning:run - start, advance and fail provisioning "
        "requests (service-only).",
        ApiScope.STREAMS_INGEST: "streams:ingest - report live streams' viewer counts (service-only).",
        ApiScope.NOTIFICATIONS_SEND: "notifications:send - send notifications to users (service-only).",
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


ACCESS_DIRECTIVE_NAMES = frozenset({"public", "auth", "hasRole", "hasPermission", "serviceOnly"})


# What a session whose user must change their password may still call (schema field names).
PASSWORD_CHANGE_ALLOWED = frozenset({"me", "changePassword", "logout", "logoutAll"})
PASSWORD_CHANGE_REQUIRED = "PASSWORD_CHANGE_REQUIRED"
# What an impersonation token (impersonateUser) may not call: credentials stay their owner's.
IMPERSONATION_REFUSED = frozenset(
    {
        "changePassword",
        "setupMfa",
        "verifyMfaSetup",
        "disableMfa",
        "regenerateRecoveryCodes",
        "requestMfaCode",
        "resetUserMfa",
        "createApiKey",
        "revokeApiKey",
        "createServiceClient",
        "revokeServiceClient",
        "deleteServiceClient",
        "impersonateUser",
        "linkOAuthIdentity",
        "linkTelegramIdentity",
        "unlinkIdentity",
    }
)


def _principal(info: Info) -> Any:
    return info.context.principal


def check_password_change(principal: Any, info: Info) -> None:
    """FORBIDDEN (extensions.reason PASSWORD_CHANGE_REQUIRED) for a session that must change its
    password, on every field but those allowed; every permission that needs a principal asks."""
    if principal.password_change_required and info.field_name not in PASSWORD_CHANGE_ALLOWED:
        raise Forbidden(
            "Change your password first (changePassword); until then nothing else is allowed.",
            reason=PASSWORD_CHANGE_REQUIRED,
        )
    check_impersonation(principal, info)


def check_impersonation(principal: Any, info: Info) -> None:
    """FORBIDDEN (extensions.reason IMPERSONATION_FORBIDDEN) for an impersonation token on the
    fields that change credentials, public ones (setupMfa) included."""
    if (
        principal is not None
        and principal.impersonator_id is not None
        and info.field_name in IMPERSONATION_REFUSED
    ):
        raise Forbidden(
            "An impersonation token may not change passwords, MFA, keys, service clients or sign-in links.",
            reason=RefusalReason.IMPERSONATION_FORBIDDEN,
        )


class Public(BasePermission):
    _schema_directive = PublicDirective()
    access_note = "Access: anyone, signed in or not."

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        check_impersonation(_principal(info), info)
        return True


class Authenticated(BasePermission):
    _schema_directive = AuthDirective()
    access_note = "Requires: a signed-in user."

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = _principal(info)
        if principal is None:
            return False
        check_password_change(principal, info)
        return True

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
        check_password_change(principal, info)
        return bool(principal.has_any_role(*self.roles))

    def on_unauthorized(self) -> None:
        raise Forbidden("You are not allowed to do this.")


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="hasPermission",
    description="Signed-in users holding one of these permissions (`resource:action`, through a custom "
    "role or a system role's defaults) or one of these roles may call this field.",
)
class HasPermissionDirective:
    permissions: list[str]
    roles: list[Role]


PERMISSIONS_ARGUMENT_DESCRIPTION = "The permissions (`resource:action`), any one of which suffices."


class HasPermission(HasRole):
    """HasRole that also lets in holders of one of ``permissions`` (core/permissions.py)."""

    def __init__(self, *permissions: str, roles: tuple[Role, ...] = ()) -> None:
        super().__init__(*roles)
        self.permissions = permissions

    @property
    def schema_directive(self) -> object:
        return HasPermissionDirective(permissions=list(self.permissions), roles=list(self.roles))

    @property
    def access_note(self) -> str:
        held = " or ".join(self.permissions)
        if not self.roles:
            return f"Requires: {held}."
        return f"{super().access_note.removesuffix('.')}, or the permission {held}."

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        if super().has_permission(source, info, **kwargs):
            return True
        return not _principal(info).permissions.isdisjoint(self.permissions)


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="hasScope",
    description="API keys and service tokens need one of these scopes. They reach only fields that "
    "carry this directive; users' sign-in sessions are not limited by scopes.",
)
class HasScopeDirective:
    scopes: list[ApiScope]


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="serviceOnly",
    description="Only service principals (OAuth2 client-credentials tokens from POST /oauth/token) and "
    "PLATFORM_ADMIN users may call this field; tenant roles do not suffice.",
)
class ServiceOnlyDirective:
    pass


SCOPES_ARGUMENT_DESCRIPTION = "The scopes, any one of which suffices."


class HasScope(BasePermission):
    def __init__(self, *scopes: ApiScope) -> None:
        self.scopes = scopes

    @property
    def schema_directive(self) -> object:
        return HasScopeDirective(scopes=list(self.scopes))

    # The printed @hasScope says it (no note of its own in the field's description).
    access_note = ""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        # Anonymous callers are the other permission's to judge (a @public field lets them in).
        principal = _principal(info)
        return principal is None or bool(principal.has_scope(*self.scopes))

    def on_unauthorized(self) -> None:
        needed = " or ".join(s.value for s in self.scopes)
        raise Forbidden(f"This credential lacks the scope {needed}.", reason=RefusalReason.INSUFFICIENT_SCOPE)


class ServiceOnly(BasePermission):
    _schema_directive = ServiceOnlyDirective()
    access_note = "Requires: a service principal or PLATFORM_ADMIN."

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = _principal(info)
        if principal is None:
            raise Unauthenticated("Sign in first.")
        check_password_change(principal, info)
        return bool(principal.is_service or principal.has_any_role(*SERVICE_ONLY_ROLES))

    def on_unauthorized(self) -> None:
        raise Forbidden(
            "Only service principals and platform administrators may do this.",
            reason=RefusalReason.SERVICE_ONLY,
        )


class SessionsOnly(BasePermission):
    """What ``access`` adds to a field without @hasScope (and not @public): API keys and service
    tokens are refused there (default deny), users' sessions pass. No directive of its own."""

    @property
    def schema_directive(self) -> object:
        return None

    access_note = ""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = _principal(info)
        return principal is None or principal.kind is PrincipalKind.SESSION

    def on_unauthorized(self) -> None:
        raise Forbidden(
            "API keys and service tokens cannot call this field: it needs a user's sign-in session.",
            reason=RefusalReason.SESSION_REQUIRED,
        )


SESSIONS_ONLY = SessionsOnly()
SERVICE_ONLY = ServiceOnly()


def access(*permissions: BasePermission) -> list[FieldExtension]:
    """The field extensions that declare and enforce ``permissions`` (all of them, in order).
    Unless one is PUBLIC or a HasScope, API keys and service tokens are refused (SessionsOnly)."""
    if not any(isinstance(p, Public | HasScope) for p in permissions):
        permissions = (*permissions, SESSIONS_ONLY)
    return [PermissionExtension(list(permissions))]


def describe_access(schema: GraphQLSchema) -> None:
    """Appends each field's access note (from the permission that enforces it) to its description,
    so that the documentation cannot drift from the check."""
    has_role = schema.get_directive("hasRole")
    if has_role is not None:
        has_role.args["roles"].description = ROLES_ARGUMENT_DESCRIPTION
    has_scope = schema.get_directive("hasScope")
    if has_scope is not None:
        has_scope.args["scopes"].description = SCOPES_ARGUMENT_DESCRIPTION
    has_permission = schema.get_directive("hasPermission")
    if has_permission is not None:
        has_permission.args["permissions"].description = PERMISSIONS_ARGUMENT_DESCRIPTION
        has_permission.args["roles"].description = ROLES_ARGUMENT_DESCRIPTION
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
                if isinstance(permission, Public | Authenticated | HasRole | ServiceOnly)
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
