"""Identity resolvers: parse input, call a service, map the result to schema types."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from functools import partial
from operator import attrgetter
from typing import Annotated, Any, cast

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.errors import NotFound
from core.permissions import PLATFORM_ADMINS, TENANT_ADMINS, USER_READERS, USERS_READ
from core.scope import TenantScope
from core.scopes import ApiScope
from models.identity.accounts import Tenant as TenantRow
from models.identity.accounts import TenantStatus, UserStatus
from models.identity.accounts import User as UserRow
from schema.directives import AUTHENTICATED, PUBLIC, HasPermission, HasRole, HasScope, access
from schema.errors import mutation_payload
from schema.identity.accounts import (
    CreateTenantInput,
    CreateTenantPayload,
    PublicTenant,
    Tenant,
    TenantFilterInput,
    TenantIdInput,
    TenantOrderInput,
    TenantPayload,
    UpdateMeInput,
    UpdateTenantInput,
    UpdateUserInput,
    User,
    UserFilterInput,
    UserIdInput,
    UserOrderInput,
    UserPayload,
    UserRolesInput,
)
from schema.live import EventMessenger, shared_payload
from schema.nodes import node_or_not_found, parse_uuid
from schema.pagination import (
    FILTER,
    SORT,
    After,
    Before,
    Connection,
    First,
    Last,
    OrderDirection,
    connection,
    page_args,
)
from services.identity import tenant_profile, tenants, users
from services.identity.tenants import NewTenant, TenantFilter
from services.identity.users import UserFilter

STAFF = HasPermission(USERS_READ, roles=USER_READERS)
TENANT_ADMIN = HasRole(*TENANT_ADMINS)
PLATFORM_ADMIN = HasRole(*PLATFORM_ADMINS)
READ = HasScope(ApiScope.USERS_READ)
WRITE = HasScope(ApiScope.USERS_WRITE)


def user_payload(user: UserRow) -> UserPayload:
    return UserPayload(user=User.from_model(user))


def _tenant_payload(tenant: TenantRow) -> TenantPayload:
    return TenantPayload(tenant=Tenant.from_model(tenant))


def _settings(value: object) -> dict[str, Any]:
    # The JSON scalar admits any JSON value; the settings are stored as given.
    return cast("dict[str, Any]", value)


async def _set_user_status(info: Info, input: UserIdInput, status: UserStatus) -> UserPayload:
    call = users.set_user_status(info.context.services, parse_uuid(input.id, "User"), status)
    return await mutation_payload(UserPayload, call, user_payload)


async def _set_tenant_status(info: Info, input: TenantIdInput, status: TenantStatus) -> TenantPayload:
    call = tenants.set_tenant_status(info.context.services, parse_uuid(input.id, "Tenant"), status)
    return await mutation_payload(TenantPayload, call, _tenant_payload)


@strawberry.type
class IdentityQuery:
    @strawberry.field(extensions=access(AUTHENTICATED, READ), description="The signed-in user.")
    async def me(self, info: Info) -> User:
        principal = info.context.principal
        # Always the caller's own account, also for a platform admin acting in another tenant.
        home = TenantScope.of(principal.home_tenant_id)
        user = await info.context.loaders_in(home).identity.user.load(principal.user_id)
        if user is None:
            raise NotFound("User")
        return User.from_model(user, read_scope=home)

    @strawberry.field(extensions=access(STAFF, READ), description="Users of the tenant.")
    async def users(
        self,
        info: Info,
        filter: Annotated[UserFilterInput | None, FILTER] = None,
        order_by: Annotated[UserOrderInput | None, SORT] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[User]:
        f = filter or UserFilterInput()
        order = order_by or UserOrderInput()
        page = await users.list_users(
            info.context.services,
            UserFilter(status=f.status, role=f.role, search=f.search),
            order.field,
            order.direction == OrderDirection.DESC,
            page_args(first, after, last, before),
        )
        return connection(page, User.from_model)

    @strawberry.field(extensions=access(STAFF, READ), description="A user of the tenant by id.")
    async def user(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="The user's global id.")],
    ) -> User:
        return await node_or_not_found(User, info, id)

    @strawberry.field(
        extensions=access(AUTHENTICATED, HasScope(ApiScope.TENANTS_READ)),
        description="Your tenant, or any for platform admins.",
    )
    async def tenant(
        self,
        info: Info,
        id: Annotated[
            relay.GlobalID | None,
            strawberry.argument(description="The tenant's global id; yours when omitted."),
        ] = None,
    ) -> Tenant:
        services = info.context.services
        tenant_id = parse_uuid(id, "Tenant") if id else services.require_principal().tenant_id
        return Tenant.from_model(await tenants.get_tenant(services, tenant_id))

    @strawberry.field(extensions=access(PLATFORM_ADMIN), description="Every tenant.")
    async def tenants(
        self,
        info: Info,
        filter: Annotated[TenantFilterInput | None, FILTER] = None,
        order_by: Annotated[TenantOrderInput | None, SORT] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Tenant]:
        f = filter or TenantFilterInput()
        order = order_by or TenantOrderInput()
        page = await tenants.list_tenants(
            info.context.services,
            TenantFilter(status=f.status, kind=f.kind, search=f.search, include_deleted=f.include_deleted),
            order.field,
            order.direction == OrderDirection.DESC,
            page_args(first, after, last, before),
        )
        return connection(page, Tenant.from_model)

    @strawberry.field(
        extensions=access(PUBLIC), description="Public facts of an active tenant, for sign-in screens."
    )
    async def tenant_by_slug(
        self,
        info: Info,
        slug: Annotated[str, strawberry.argument(description="The slug the person typed (any case).")],
    ) -> PublicTenant | None:
        profile = await tenant_profile.public_profile_by_slug(info.context.services, slug)
        return PublicTenant.of(profile) if profile else None


@strawberry.type
class IdentityMutation:
    @strawberry.mutation(extensions=access(AUTHENTICATED, WRITE), description="Update your own profile.")
    async def update_me(
        self,
        info: Info,
        input: Annotated[UpdateMeInput, strawberry.argument(description="The profile fields to change.")],
    ) -> UserPayload:
        call = users.update_me(info.context.services, input.full_name, input.profile_changes())
        return await mutation_payload(UserPayload, call, user_payload)

    @strawberry.mutation(extensions=access(TENANT_ADMIN, WRITE), description="Update a user of the tenant.")
    async def update_user(
        self,
        info: Info,
        input: Annotated[
            UpdateUserInput, strawberry.argument(description="The user and the fields to change.")
        ],
    ) -> UserPayload:
        call = users.update_user(
            info.context.services,
            parse_uuid(input.id, "User"),
            full_name=input.full_name,
            email=input.email,
            email_verified=input.email_verified,
        )
        return await mutation_payload(UserPayload, call, user_payload)

    @strawberry.mutation(
        extensions=access(TENANT_ADMIN, WRITE), description="Suspend a user: sign-in refused, sessions ended."
    )
    async def suspend_user(
        self,
        info: Info,
        input: Annotated[UserIdInput, strawberry.argument(description="The user to suspend.")],
    ) -> UserPayload:
        return await _set_user_status(info, input, UserStatus.SUSPENDED)

    @strawberry.mutation(
        extensions=access(TENANT_ADMIN, WRITE), description="Let a suspended user sign in again."
    )
    async def reactivate_user(
        self,
        info: Info,
        input: Annotated[UserIdInput, strawberry.argument(description="The suspended user to reactivate.")],
    ) -> UserPayload:
        return await _set_user_status(info, input, UserStatus.ACTIVE)

    @strawberry.mutation(extensions=access(TENANT_ADMIN), description="Grant roles to a user.")
    async def assign_roles(
        self,
        info: Info,
        input: Annotated[UserRolesInput, strawberry.argument(description="The user and the roles to add.")],
    ) -> UserPayload:
        call = users.change_roles(info.context.services, parse_uuid(input.id, "User"), add=input.roles)
        return await mutation_payload(UserPayload, call, user_payload)

    @strawberry.mutation(extensions=access(TENANT_ADMIN), description="Take roles from a user.")
    async def remove_roles(
        self,
        info: Info,
        input: Annotated[
            UserRolesInput, strawberry.argument(description="The user and the roles to take away.")
        ],
    ) -> UserPayload:
        call = users.change_roles(info.context.services, parse_uuid(input.id, "User"), remove=input.roles)
        return await mutation_payload(UserPayload, call, user_payload)

    @strawberry.mutation(
        extensions=access(PLATFORM_ADMIN), description="Create a tenant with its first tenant admin."
    )
    async def create_tenant(
        self,
        info: Info,
        input: Annotated[
            CreateTenantInput, strawberry.argument(description="The tenant and its first admin.")
        ],
    ) -> CreateTenantPayload:
        call = tenants.create_tenant(
            info.context.services,
            NewTenant(
                slug=input.slug,
                name=input.name,
                kind=input.kind,
                status=input.status,
                contact_email=input.contact_email,
                settings=_settings(input.settings or {}),
                admin_email=input.admin_email,
                admin_full_name=input.admin_full_name,
                admin_password=input.admin_password,
            ),
        )
        return await mutation_payload(
            CreateTenantPayload,
            call,
            lambda created: CreateTenantPayload(
                tenant=Tenant.from_model(created.tenant),
                admin=User.from_model(created.admin),
                initial_admin_password=created.initial_admin_password,
            ),
        )

    @strawberry.mutation(
        extensions=access(TENANT_ADMIN), description="Update a tenant (kind: platform admins only)."
    )
    async def update_tenant(
        self,
        info: Info,
        input: Annotated[
            UpdateTenantInput, strawberry.argument(description="The tenant and the fields to change.")
        ],
    ) -> TenantPayload:
        call = tenants.update_tenant(
            info.context.services,
            parse_uuid(input.id, "Tenant"),
            name=input.name,
            kind=input.kind,
            contact_email=input.contact_email,
            settings=None if input.settings is None else _settings(input.settings),
        )
        return await mutation_payload(TenantPayload, call, _tenant_payload)

    @strawberry.mutation(
        extensions=access(PLATFORM_ADMIN), description="Suspend a tenant: its users can no longer sign in."
    )
    async def suspend_tenant(
        self,
        info: Info,
        input: Annotated[TenantIdInput, strawberry.argument(description="The tenant to suspend.")],
    ) -> TenantPayload:
        return await _set_tenant_status(info, input, TenantStatus.SUSPENDED)

    @strawberry.mutation(extensions=access(PLATFORM_ADMIN), description="Reactivate a suspended tenant.")
    async def reactivate_tenant(
        self,
        info: Info,
        input: Annotated[
            TenantIdInput, strawberry.argument(description="The suspended tenant to reactivate.")
        ],
    ) -> TenantPayload:
        return await _set_tenant_status(info, input, TenantStatus.ACTIVE)


@strawberry.type
class IdentitySubscription:
    @strawberry.subscription(
        extensions=access(AUTHENTICATED),
        description="Changes to users: tenant staff see the tenant's users, anyone else themself.",
    )
    async def user_updated(
        self,
        info: Info,
        id: Annotated[
            relay.GlobalID | None,
            strawberry.argument(description="Only this user's changes; all you may see when omitted."),
        ] = None,
    ) -> AsyncGenerator[User, None]:
        only = parse_uuid(id, "User") if id else None
        context = info.context
        messenger = EventMessenger.of_current(attrgetter("memo"))
        async for change in users.user_updates(
            context.services, context.fanout, context.access, only, messenger
        ):
            context.resolve_event_with(change.loaders)
            yield shared_payload(change.memo, partial(User.from_model, change.user))
