"""Role resolvers: the permission catalogue, the tenant's roles (system and custom), a user's
roles; tenant admins (or holders of roles:write) create, change, delete and assign roles."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.permissions import PERMISSIONS, TENANT_ADMINS
from models.identity.roles import CustomRole
from schema.directives import AUTHENTICATED, HasPermission, access
from schema.errors import mutation_payload
from schema.identity.roles import (
    CreateRoleInput,
    DeleteRolePayload,
    RoleDetail,
    RolePayload,
    RoleRefInput,
    UpdateRoleInput,
    UserRoleInput,
    UserRolesPayload,
)
from schema.nodes import parse_uuid
from schema.pagination import After, Before, Connection, First, Last, connection, page_args
from services.identity import roles
from services.identity.roles import RoleView

ROLE_READERS = HasPermission(roles.ROLES_READ, roles=TENANT_ADMINS)
ROLE_WRITERS = HasPermission(roles.ROLES_WRITE, roles=TENANT_ADMINS)


def _role_payload(role: CustomRole) -> RolePayload:
    return RolePayload(role=RoleDetail.from_model(role))


def _user_roles_payload(views: list[RoleView]) -> UserRolesPayload:
    return UserRolesPayload(roles=[RoleDetail.from_view(view) for view in views])


@strawberry.type
class RoleQuery:
    @strawberry.field(
        extensions=access(AUTHENTICATED),
        description="Every permission (`resource:action`) a custom role may grant, sorted.",
    )
    def permissions(self) -> list[str]:
        return sorted(PERMISSIONS)

    @strawberry.field(
        extensions=access(ROLE_READERS),
        description="The system roles with their default permissions (read-only).",
    )
    def system_roles(self) -> list[RoleDetail]:
        return [RoleDetail.from_view(view) for view in roles.system_roles()]

    @strawberry.field(extensions=access(ROLE_READERS), description="The tenant's custom roles by name.")
    async def custom_roles(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[RoleDetail]:
        page = await roles.list_custom_roles(info.context.services, page_args(first, after, last, before))
        return connection(page, RoleDetail.from_model)

    @strawberry.field(
        extensions=access(AUTHENTICATED),
        description="A user's roles, system and custom, with their permissions: your own, or anyone's "
        "in the tenant with roles:read (tenant admins).",
    )
    async def user_roles(
        self,
        info: Info,
        user_id: Annotated[relay.GlobalID, strawberry.argument(description="The user's global id.")],
    ) -> list[RoleDetail]:
        views = await roles.user_roles(info.context.services, parse_uuid(user_id, "User"))
        return [RoleDetail.from_view(view) for view in views]


@strawberry.type
class RoleMutation:
    @strawberry.mutation(extensions=access(ROLE_WRITERS), description="Create a custom role.")
    async def create_role(
        self,
        info: Info,
        input: Annotated[CreateRoleInput, strawberry.argument(description="Name and permissions.")],
    ) -> RolePayload:
        call = roles.create_role(info.context.services, input.name, input.description, input.permissions)
        return await mutation_payload(RolePayload, call, _role_payload)

    @strawberry.mutation(
        extensions=access(ROLE_WRITERS),
        description="Change a custom role (system roles cannot be changed).",
    )
    async def update_role(
        self,
        info: Info,
        input: Annotated[UpdateRoleInput, strawberry.argument(description="The role and what changes.")],
    ) -> RolePayload:
        call = roles.update_role(
            info.context.services,
            input.ref(),
            name=input.name,
            description=input.description,
            permissions=input.permissions,
        )
        return await mutation_payload(RolePayload, call, _role_payload)

    @strawberry.mutation(
        extensions=access(ROLE_WRITERS),
        description="Delete a custom role nobody holds (ROLE_IN_USE otherwise); system roles cannot be "
        "deleted.",
    )
    async def delete_role(
        self,
        info: Info,
        input: Annotated[RoleRefInput, strawberry.argument(description="The role to delete.")],
    ) -> DeleteRolePayload:
        call = roles.delete_role(info.context.services, input.ref())
        return await mutation_payload(
            DeleteRolePayload,
            call,
            lambda deleted: DeleteRolePayload(deleted_role_id=relay.GlobalID("CustomRole", str(deleted))),
        )

    @strawberry.mutation(
        extensions=access(ROLE_WRITERS),
        description="Give a user a role, by id or by name (a system role by its name).",
    )
    async def assign_role(
        self,
        info: Info,
        input: Annotated[UserRoleInput, strawberry.argument(description="The user and the role.")],
    ) -> UserRolesPayload:
        call = roles.set_role(
            info.context.services, parse_uuid(input.user_id, "User"), input.ref(), held=True
        )
        return await mutation_payload(UserRolesPayload, call, _user_roles_payload)

    @strawberry.mutation(
        extensions=access(ROLE_WRITERS), description="Take a role from a user, by id or by name."
    )
    async def remove_role(
        self,
        info: Info,
        input: Annotated[UserRoleInput, strawberry.argument(description="The user and the role.")],
    ) -> UserRolesPayload:
        call = roles.set_role(
            info.context.services, parse_uuid(input.user_id, "User"), input.ref(), held=False
        )
        return await mutation_payload(UserRolesPayload, call, _user_roles_payload)
