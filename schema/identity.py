"""Identity types: tenants and users (federation entities and Relay nodes), their inputs and payloads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info
from strawberry.types.lazy_type import LazyType

from core.errors import NotFound
from core.permissions import ORDER_STAFF, USER_READERS
from core.scope import TenantScope
from loaders.pagination import ChildPageKey
from models import identity as models
from models.identity import TenantKind, TenantStatus, UserStatus
from schema.directives import Role  # registered there as an enum: must come first (else 2 Roles)
from schema.errors import UserError
from schema.nodes import NO_ID, Entity, load_nodes, node_type
from schema.pagination import Connection, OrderDirection, connection, page_args
from services.identity.errors import IdentityErrorCode
from services.identity.tenants import TenantOrderField
from services.identity.users import UserOrderField, can_read_user

if TYPE_CHECKING:
    from schema.orders import Order

# The orders domain's type, found when first used (schema/orders.py imports this module).
ORDER_TYPE: LazyType[str, str] = LazyType("Order", "schema.orders")

strawberry.enum(
    IdentityErrorCode,
    description="userError codes of the identity mutations (sign-in, accounts, users, tenants).",
)
strawberry.enum(TenantKind)
strawberry.enum(TenantStatus)
strawberry.enum(UserStatus)
strawberry.enum(UserOrderField)
strawberry.enum(TenantOrderField)


@node_type
@strawberry.federation.type(keys=["id"], name="Tenant", description="An organisation using the platform.")
class Tenant(Entity):
    tenant_id: relay.NodeID[str]
    slug: str
    name: str
    kind: TenantKind
    status: TenantStatus
    contact_email: str | None
    settings: JSON
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, tenant: models.Tenant) -> Self:
        return cls(
            tenant_id=str(tenant.id),
            slug=tenant.slug,
            name=tenant.name,
            kind=tenant.kind,
            status=tenant.status,
            contact_email=tenant.contact_email,
            settings=JSON(tenant.settings),
            created_at=tenant.created_at,
            updated_at=tenant.updated_at,
        )

    @strawberry.field(
        description="The tenant's users, oldest first. TENANT_ADMIN, MANAGER, SUPPORT_AGENT and AUDITOR "
        "see all of them; anyone else only themselves."
    )
    async def users(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[User]:
        principal = info.context.principal
        if principal is None:
            only: uuid.UUID | None = NO_ID
        elif principal.has_any_role(*USER_READERS):
            only = None
        else:
            only = principal.user_id
        key = ChildPageKey(uuid.UUID(self.tenant_id), page_args(first, after, last, before), only)
        page = await info.context.loaders.identity.users_of_tenant.load(key)
        return connection(page, User.from_model)

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        return await load_nodes(node_ids, "Tenant", info.context.loaders.identity.tenant, cls.from_model)


@strawberry.type(description="What a sign-in screen may know about a tenant.")
class PublicTenant:
    slug: str
    name: str


@node_type
@strawberry.federation.type(keys=["id"], name="User", description="A person who signs in to one tenant.")
class User(Entity):
    user_id: relay.NodeID[str]
    email: str
    full_name: str
    status: UserStatus
    email_verified: bool
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None
    tenant_uuid: strawberry.Private[uuid.UUID]
    # The scope the row was read in, when not the request's (see RequestContext.loaders_in).
    read_scope: strawberry.Private[TenantScope | None] = None

    @classmethod
    def from_model(cls, user: models.User, read_scope: TenantScope | None = None) -> Self:
        return cls(
            read_scope=read_scope,
            user_id=str(user.id),
            email=user.email,
            full_name=user.full_name,
            status=user.status,
            email_verified=user.email_verified,
            created_at=user.created_at,
            updated_at=user.updated_at,
            last_login_at=user.last_login_at,
            tenant_uuid=user.tenant_id,
        )

    @strawberry.field
    async def roles(self, info: Info) -> list[Role]:
        loaders = info.context.loaders_in(self.read_scope)
        roles: list[Role] = await loaders.identity.roles_of_user.load(uuid.UUID(self.user_id))
        return roles

    @strawberry.field
    async def tenant(self, info: Info) -> Tenant:
        tenant = await info.context.loaders_in(self.read_scope).identity.tenant.load(self.tenant_uuid)
        if tenant is None:  # platform admins see every tenant; members their own
            raise NotFound("Tenant")
        return Tenant.from_model(tenant)

    @strawberry.field(
        description="The user's orders, oldest first: your own, or anyone's for MANAGER, SUPPORT_AGENT "
        "and TENANT_ADMIN (empty for anyone else)."
    )
    async def orders(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[Order, strawberry.lazy("schema.orders")]]:
        principal = info.context.principal
        user_id = uuid.UUID(self.user_id)
        may_read = principal is not None and (
            principal.user_id == user_id or principal.has_any_role(*ORDER_STAFF)
        )
        order_type: type[Order] = ORDER_TYPE.resolve_type()
        key = ChildPageKey(user_id, page_args(first, after, last, before), None if may_read else NO_ID)
        page = await info.context.loaders.orders.orders_of_user.load(key)
        return connection(page, order_type.from_model)

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        services = info.context.services
        return await load_nodes(
            node_ids,
            "User",
            info.context.loaders.identity.user,
            cls.from_model,
            lambda user: can_read_user(services, user.id),
        )


# ---- inputs -------------------------------------------------------------------------------


@strawberry.input
class UserFilterInput:
    status: UserStatus | None = None
    role: Role | None = None
    search: str | None = strawberry.field(default=None, description="Matches email or name.")


@strawberry.input
class UserOrderInput:
    field: UserOrderField = UserOrderField.CREATED_AT
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input
class TenantFilterInput:
    status: TenantStatus | None = None
    kind: TenantKind | None = None
    search: str | None = strawberry.field(default=None, description="Matches slug or name.")


@strawberry.input
class TenantOrderInput:
    field: TenantOrderField = TenantOrderField.CREATED_AT
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input
class LoginInput:
    tenant_slug: str
    email: str
    password: str


@strawberry.input
class RegisterInput:
    tenant_slug: str
    email: str
    full_name: str
    password: str


@strawberry.input
class RefreshInput:
    refresh_token: str


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str


@strawberry.input
class UpdateMeInput:
    full_name: str | None = None


@strawberry.input
class UpdateUserInput:
    id: relay.GlobalID
    full_name: str | None = None
    email: str | None = None
    email_verified: bool | None = None


@strawberry.input
class UserIdInput:
    id: relay.GlobalID


@strawberry.input
class UserRolesInput:
    id: relay.GlobalID
    roles: list[Role]


@strawberry.input
class CreateTenantInput:
    slug: str
    name: str
    kind: TenantKind = TenantKind.ENTERPRISE
    status: TenantStatus = TenantStatus.ACTIVE
    contact_email: str | None = None
    settings: JSON | None = None
    admin_email: str
    admin_full_name: str
    admin_password: str | None = strawberry.field(
        default=None, description="Omit to have a one-time password generated and returned once."
    )


@strawberry.input
class UpdateTenantInput:
    id: relay.GlobalID
    name: str | None = None
    kind: TenantKind | None = None
    contact_email: str | None = None
    settings: JSON | None = None


@strawberry.input
class TenantIdInput:
    id: relay.GlobalID


# ---- payloads -----------------------------------------------------------------------------


@strawberry.type
class AuthPayload:
    user: User | None = None
    access_token: str | None = None
    access_token_expires_at: datetime | None = None
    refresh_token: str | None = strawberry.field(
        default=None, description="Opaque; rotated on every refresh. A reused one ends the session."
    )
    refresh_token_expires_at: datetime | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UserPayload:
    user: User | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class LogoutPayload:
    sessions_ended: int = 0
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class TenantPayload:
    tenant: Tenant | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CreateTenantPayload:
    tenant: Tenant | None = None
    admin: User | None = None
    initial_admin_password: str | None = strawberry.field(
        default=None, description="Shown once when no admin password was given; never again."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)
