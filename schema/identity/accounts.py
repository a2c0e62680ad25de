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
from core.permissions import ORDER_STAFF, ORDERS_READ, USER_READERS, USERS_READ
from core.scope import TenantScope
from loaders.pagination import ChildPageKey
from models.identity import accounts as models
from models.identity.accounts import TenantKind, TenantStatus, UserStatus
from schema import audit as audit_feeds
from schema.directives import Role  # registered there as an enum: must come first (else 2 Roles)
from schema.enums import documented_enum
from schema.errors import UserError, user_errors_field
from schema.identity.profile import ProfileInput, UserProfileFields
from schema.identity.tenant_profile import TenantBranding, TenantProfile
from schema.identity.wallet import Wallet, user_wallet
from schema.live import SharedPayload
from schema.nodes import NO_ID, Entity, load_nodes, node_type
from schema.pagination import After, Before, Connection, First, Last, OrderDirection, connection, page_args
from services.identity.bans import banned_now
from services.identity.tenant_profile import PublicProfile
from services.identity.tenants import TenantOrderField
from services.identity.users import UserOrderField, can_read_user

if TYPE_CHECKING:
    from schema.orders.types import Order

# The orders domain's type, found when first used (schema/orders/types.py imports this module).
ORDER_TYPE: LazyType[str, str] = LazyType("Order", "schema.orders.types")

documented_enum(
    TenantKind,
    "What sort of customer a tenant is; set by platform admins.",
    {
        TenantKind.INTERNAL: "Run by the platform operator itself (staff, testing).",
        TenantKind.RESELLER: "A partner reselling the platform to its own customers.",
        TenantKind.ENTERPRISE: "A direct customer organisation (the default).",
    },
)
documented_enum(
    TenantStatus,
    "Where a tenant is in its life cycle: TRIAL or ACTIVE, SUSPENDED, CANCELLED (final).",
    {
        TenantStatus.ACTIVE: "In service: its users sign in and work.",
        TenantStatus.TRIAL: "In service on a trial; works like ACTIVE.",
        TenantStatus.SUSPENDED: "Out of service until reactivated: no sign-in, sessions ended.",
        TenantStatus.CANCELLED: "Closed for good: no sign-in, and it cannot be reactivated.",
    },
)
documented_enum(
    UserStatus,
    "Whether a user may sign in.",
    {
        UserStatus.ACTIVE: "May sign in.",
        UserStatus.SUSPENDED: "May not sign in; the user's sessions were ended when suspended.",
        UserStatus.DELETED: "Deleted by an admin: anonymised, kept only for the orders and invoices.",
    },
)
documented_enum(
    UserOrderField,
    "What a list of users is sorted by.",
    {
        UserOrderField.CREATED_AT: "When the account was created.",
        UserOrderField.EMAIL: "Email address, alphabetically.",
        UserOrderField.NAME: "Full name, alphabetically.",
    },
)
documented_enum(
    TenantOrderField,
    "What a list of tenants is sorted by.",
    {
        TenantOrderField.CREATED_AT: "When the tenant was created.",
        TenantOrderField.SLUG: "Slug, alphabetically.",
        TenantOrderField.NAME: "Display name, alphabetically.",
    },
)


@node_type
@strawberry.federation.type(keys=["id"], name="Tenant", description="An organisation using the platform.")
class Tenant(TenantProfile, Entity):
    tenant_id: relay.NodeID[str]
    slug: str = strawberry.field(
        description="Unique short name (lowercase letters, digits, hyphens) typed at sign-in; never changes."
    )
    name: str = strawberry.field(description="Display name.")
    kind: TenantKind = strawberry.field(description="What sort of customer this is.")
    status: TenantStatus = strawberry.field(description="Where the tenant is in its life cycle.")
    contact_email: str | None = strawberry.field(description="Where the platform writes to the tenant.")
    settings: JSON = strawberry.field(
        description="Free-form JSON object of tenant preferences; its admins change it with "
        "patchTenantSettings (a JSON merge patch)."
    )
    created_at: datetime = strawberry.field(description="When the tenant was created (UTC).")
    updated_at: datetime = strawberry.field(description="When the tenant last changed (UTC).")

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
            **TenantProfile.fields_of(tenant),
        )

    @strawberry.field(
        description="The tenant's users, oldest first. TENANT_ADMIN, MANAGER, SUPPORT_AGENT and AUDITOR "
        "see all of them; anyone else only themselves."
    )
    async def users(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[User]:
        principal = info.context.principal
        if principal is None:
            only: uuid.UUID | None = NO_ID
        elif principal.allows(USERS_READ, *USER_READERS):
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
    slug: str = strawberry.field(description="The slug to sign in with.")
    name: str = strawberry.field(description="Display name, for the sign-in screen.")
    branding: TenantBranding = strawberry.field(description="How the tenant's pages look.")

    @classmethod
    def of(cls, profile: PublicProfile) -> Self:
        tenant = profile.tenant
        return cls(slug=tenant.slug, name=tenant.name, branding=TenantBranding.from_model(profile.branding))


@node_type
@strawberry.federation.type(keys=["id"], name="User", description="A person who signs in to one tenant.")
class User(UserProfileFields, Entity, SharedPayload):
    user_id: relay.NodeID[str]
    email: str = strawberry.field(
        description="Sign-in address, unique in the tenant (stored lowercase); an empty string for an "
        "account registered with a phone number only.",
        deprecation_reason="An account registered with a phone number has no address: use "
        "emailAddress, which is null then.",
    )
    email_address: str | None = strawberry.field(
        description="Sign-in address, unique in the tenant (stored lowercase); null for an account "
        "registered with a phone number only."
    )
    full_name: str = strawberry.field(
        description="Name as the user gave it (at sign-up with first and last name: both, joined)."
    )
    first_name: str | None = strawberry.field(description="Given name, when the user gave it apart.")
    last_name: str | None = strawberry.field(description="Family name, when the user gave it apart.")
    username: str | None = strawberry.field(
        description="Chosen at sign-up (lower case), unique in the tenant."
    )
    phone: str | None = strawberry.field(
        description="Sign-in phone number in E.164 form (e.g. +493012345678), unique in the tenant."
    )
    phone_verified: bool = strawberry.field(
        description="Whether the phone number was confirmed by a texted code."
    )
    status: UserStatus = strawberry.field(description="Whether the user may sign in.")
    email_verified: bool = strawberry.field(
        description="Whether the address was confirmed (by its verification or reset link, or by admins)."
    )
    mfa_enabled: bool = strawberry.field(
        description="Whether signing in asks for an authenticator code (TOTP MFA is on)."
    )
    created_at: datetime = strawberry.field(description="When the account was created (UTC).")
    updated_at: datetime = strawberry.field(description="When the account last changed (UTC).")
    last_login_at: datetime | None = strawberry.field(
        description="When the user last signed in (UTC); null if never."
    )
    banned: bool = strawberry.field(description="Whether a ban stops the user signing in now.")
    ban_reason: str | None = strawberry.field(description="Why the user is banned; null when not.")
    banned_until: datetime | None = strawberry.field(
        description="When the ban ends by itself (UTC); null when not banned or banned until lifted."
    )
    tenant_uuid: strawberry.Private[uuid.UUID]
    # The scope the row was read in, when not the request's (see RequestContext.loaders_in).
    read_scope: strawberry.Private[TenantScope | None] = None

    @classmethod
    def from_model(cls, user: models.User, read_scope: TenantScope | None = None) -> Self:
        banned = banned_now(user)
        return cls(
            read_scope=read_scope,
            user_id=str(user.id),
            email=user.email or "",
            email_address=user.email,
            full_name=user.full_name,
            first_name=user.first_name,
            last_name=user.last_name,
            username=user.username,
            phone=user.phone,
            phone_verified=user.phone_verified,
            status=user.status,
            email_verified=user.email_verified,
            mfa_enabled=user.mfa_enabled,
            created_at=user.created_at,
            updated_at=user.updated_at,
            last_login_at=user.last_login_at,
            banned=banned,
            ban_reason=user.ban_reason if banned else None,
            banned_until=user.banned_until if banned else None,
            tenant_uuid=user.tenant_id,
            **UserProfileFields.fields_of(user),
        )

    wallet: Wallet | None = strawberry.field(
        resolver=user_wallet,
        description="Balances and daily usage quota (GET /users/me/balance): yours, or anyone's for "
        "service principals and platform admins; null otherwise.",
    )

    recent_activity = strawberry.field(
        resolver=audit_feeds.recent_activity,
        description="Your own recent activity, newest first: the audit entries where you are the actor "
        "(by session or API key, or someone impersonating you). Empty on anyone else's user.",
    )
    security_events = strawberry.field(
        resolver=audit_feeds.my_security_events,
        description="Your own security events, newest first: sign-ins, sessions, credentials, roles and "
        "refusals, by you or done to your account. Empty on anyone else's user.",
    )

    @strawberry.field(description="The user's roles in the tenant (a self-registered user holds USER).")
    async def roles(self, info: Info) -> list[Role]:
        loaders = info.context.loaders_in(self.read_scope)
        roles: list[Role] = await loaders.identity.roles_of_user.load(uuid.UUID(self.user_id))
        return roles

    @strawberry.field(description="The tenant the user belongs to.")
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
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Annotated[Order, strawberry.lazy("schema.orders.types")]]:
        principal = info.context.principal
        user_id = uuid.UUID(self.user_id)
        may_read = principal is not None and (
            principal.user_id == user_id or principal.allows(ORDERS_READ, *ORDER_STAFF)
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


@strawberry.input(description="Which users to list; the conditions given all apply.")
class UserFilterInput:
    status: UserStatus | None = strawberry.field(default=None, description="Only users in this status.")
    role: Role | None = strawberry.field(default=None, description="Only users holding this role.")
    search: str | None = strawberry.field(default=None, description="Matches email or name.")


@strawberry.input(description="How users are sorted (ties in id order).")
class UserOrderInput:
    field: UserOrderField = strawberry.field(default=UserOrderField.CREATED_AT, description="Sort key.")
    direction: OrderDirection = strawberry.field(default=OrderDirection.ASC, description="Sort direction.")


@strawberry.input(description="Which tenants to list; the conditions given all apply.")
class TenantFilterInput:
    status: TenantStatus | None = strawberry.field(default=None, description="Only tenants in this status.")
    kind: TenantKind | None = strawberry.field(default=None, description="Only tenants of this kind.")
    search: str | None = strawberry.field(default=None, description="Matches slug or name.")
    include_deleted: bool = strawberry.field(
        default=False, description="Also list soft-deleted tenants (deletedAt set)."
    )


@strawberry.input(description="How tenants are sorted (ties in id order).")
class TenantOrderInput:
    field: TenantOrderField = strawberry.field(default=TenantOrderField.CREATED_AT, description="Sort key.")
    direction: OrderDirection = strawberry.field(default=OrderDirection.ASC, description="Sort direction.")


@strawberry.input(description="Changes to your own profile; omitted fields stay as they are.")
class UpdateMeInput(ProfileInput):
    full_name: str | None = strawberry.field(default=None, description="Your new name.")


@strawberry.input(description="Changes to a user of the tenant; omitted fields stay as they are.")
class UpdateUserInput:
    id: relay.GlobalID = strawberry.field(description="The user's global id.")
    full_name: str | None = strawberry.field(default=None, description="New full name.")
    email: str | None = strawberry.field(default=None, description="New sign-in address; must be free.")
    email_verified: bool | None = strawberry.field(
        default=None, description="Mark the address as confirmed (or not)."
    )


@strawberry.input(description="One user, by id.")
class UserIdInput:
    id: relay.GlobalID = strawberry.field(description="The user's global id.")


@strawberry.input(description="A user and the roles to grant (assignRoles) or take away (removeRoles).")
class UserRolesInput:
    id: relay.GlobalID = strawberry.field(description="The user's global id.")
    roles: list[Role] = strawberry.field(
        description="Roles in the tenant; only platform admins grant or remove PLATFORM_ADMIN."
    )


@strawberry.input(description="A new tenant and its first TENANT_ADMIN.")
class CreateTenantInput:
    slug: str = strawberry.field(
        description="Unique short name: lowercase letters, digits and hyphens; some names are reserved."
    )
    name: str = strawberry.field(description="Display name.")
    kind: TenantKind = strawberry.field(default=TenantKind.ENTERPRISE, description="What sort of customer.")
    status: TenantStatus = strawberry.field(
        default=TenantStatus.ACTIVE, description="Initial status; TRIAL for a trial."
    )
    contact_email: str | None = strawberry.field(default=None, description="Where to write to the tenant.")
    settings: JSON | None = strawberry.field(default=None, description="Initial preferences (a JSON object).")
    admin_email: str = strawberry.field(description="Sign-in address of the first admin.")
    admin_full_name: str = strawberry.field(description="Name of the first admin.")
    admin_password: str | None = strawberry.field(
        default=None, description="Omit to have a one-time password generated and returned once."
    )


@strawberry.input(description="Changes to a tenant; omitted fields stay as they are.")
class UpdateTenantInput:
    id: relay.GlobalID = strawberry.field(description="The tenant's global id.")
    name: str | None = strawberry.field(default=None, description="New display name.")
    kind: TenantKind | None = strawberry.field(
        default=None, description="New kind; only platform admins may change it (FORBIDDEN otherwise)."
    )
    contact_email: str | None = strawberry.field(default=None, description="New contact address.")
    settings: JSON | None = strawberry.field(
        default=None,
        description="Replaces the preferences as a whole (a JSON object).",
        deprecation_reason="Replaces every key; use patchTenantSettings, which merges (JSON merge patch).",
    )


@strawberry.input(description="One tenant, by id.")
class TenantIdInput:
    id: relay.GlobalID = strawberry.field(description="The tenant's global id.")


# ---- payloads -----------------------------------------------------------------------------


@strawberry.type(description="The result of a change to a user: the user as it is now, or userErrors.")
class UserPayload:
    user: User | None = strawberry.field(default=None, description="The user after the change.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of a change to a tenant: the tenant as it is now, or userErrors.")
class TenantPayload:
    tenant: Tenant | None = strawberry.field(default=None, description="The tenant after the change.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of creating a tenant: it and its first admin, or userErrors.")
class CreateTenantPayload:
    tenant: Tenant | None = strawberry.field(default=None, description="The new tenant.")
    admin: User | None = strawberry.field(default=None, description="Its first TENANT_ADMIN.")
    initial_admin_password: str | None = strawberry.field(
        default=None, description="Shown once when no admin password was given; never again."
    )
    user_errors: list[UserError] = user_errors_field()


async def user_of(info: Info, user_id: uuid.UUID) -> User:
    """The user a row points to (a foreign key: missing only if deleted under us)."""
    user = await info.context.loaders.identity.user.load(user_id)
    if user is None:
        raise NotFound("User")
    return User.from_model(user)


async def readable_user(info: Info, user_id: uuid.UUID | None) -> User | None:
    """The user who acted on something, when there was one and the caller may see them."""
    if user_id is None or not can_read_user(info.context.services, user_id):
        return None
    user = await info.context.loaders.identity.user.load(user_id)
    return User.from_model(user) if user else None
