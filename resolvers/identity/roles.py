"""Role resolvers: the permission catalogue, the tenant's roles (system and custom), a user's
roles; tenant admins (or holders of roles:write) create, change, delete and assign roles and grant
or revoke one permission at a time; platform admins administer the catalogue's custom entries."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.permissions import PLATFORM_ADMINS, TENANT_ADMINS
from models.identity.roles import CustomRole
from schema.directives import AUTHENTICATED, HasPermission, HasRole, access
from schema.errors import mutation_payload
from schema.identity.roles import (
    CreatePermissionInput,
    CreateRoleInput,
    DeletePermissionInput,
    DeletePermissionPayload,
    DeleteRolePayload,
    PermissionFilterInput,
    PermissionPayload,
    PermissionType,
    RoleDetail,
    RolePayload,
    RolePermissionInput,
    RoleRefInput,
    UpdatePermissionInput,
    UpdateRoleInput,
    UserRoleInput,
    UserRolesPayload,
)
from schema.nodes import parse_uuid
from schema.pagination import After, Before, Connection, First, Last, connection, page_args
from services.identity import permission_catalogue, roles
from services.identity.permission_catalogue import PermissionEntry
from services.identity.roles import RoleView

ROLE_READERS = HasPermission(roles.ROLES_READ, roles=TENANT_ADMINS)
ROLE_WRITERS = HasPermission(roles.ROLES_WRITE, roles=TENANT_ADMINS)
CATALOGUE_ADMINS = HasRole(*PLATFORM_ADMINS)


def _role_payload(role: CustomRole) -> RolePayload:
    return RolePayload(role=RoleDetail.from_model(role))


def _permission_payload(entry: PermissionEntry) -> PermissionPayload:
    return PermissionPayload(permission=PermissionType.from_entry(entry))


def _user_roles_payload(views: list[RoleView]) -> UserRolesPayload:
    return UserRolesPayload(roles=[RoleDetail.from_view(view) for view in views])


@strawberry.type
class RoleQuery:
    @strawberry.field(
        extensions=access(AUTHENTICATED),
        description="Every permission (`resource:action`) a custom role may grant, built-in and custom, "
        "sorted (the entries with ids and descriptions: `permissionCatalogue`).",
    )
    async def permissions(self, info: Info) -> list[str]:
        return await permission_catalogue.grantable_keys(info.context.services)

    @strawberry.field(
        extensions=access(AUTHENTICATED),
        description="The permission catalogue by key: built-in entries and the platform's custom ones.",
    )
    async def permission_catalogue(
        self,
        info: Info,
        filter: Annotated[
            PermissionFilterInput | None, strawberry.argument(description="Which entries.")
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[PermissionType]:
        page = await permission_catalogue.list_permissions(
            info.context.services,
            page_args(first, after, last, before),
            (filter or PermissionFilterInput()).to_filter(),
        )
        return connection(page, PermissionType.from_entry)

    @strawberry.field(
        extensions=access(AUTHENTICATED), description="One catalogue entry by id (NOT_FOUND if none)."
    )
    async def permission(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="The permission's id.")],
    ) -> PermissionType:
        entry = await permission_catalogue.get_permission(info.context.services, parse_uuid(id, "Permission"))
        return PermissionType.from_entry(entry)

    @strawberry.field(
        extensions=access(AUTHENTICATED),
        description="The permissions you hold now (your system roles' defaults and your custom roles' "
        "grants, custom catalogue entries included), sorted.",
    )
    def my_permissions(self, info: Info) -> list[str]:
        return sorted(info.context.services.require_principal().permissions)

    @strawberry.field(
        extensions=access(ROLE_READERS),
        description="One custom role of the tenant by id, with its permissions (NOT_FOUND if none).",
    )
    async def role(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="The custom role's id.")],
    ) -> RoleDetail:
        return RoleDetail.from_model(
            await roles.get_role(info.context.services, parse_uuid(id, "CustomRole"))
        )

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

    @strawberry.mutation(
        extensions=access(ROLE_WRITERS),
        description="Grant one permission (by id or key) to a custom role, keeping its others; its holders "
        "have it on their next request.",
    )
    async def grant_role_permission(
        self,
        info: Info,
        input: Annotated[
            RolePermissionInput, strawberry.argument(description="The role and the permission.")
        ],
    ) -> RolePayload:
        call = roles.set_permission(info.context.services, input.ref(), input.permission_ref(), granted=True)
        return await mutation_payload(RolePayload, call, _role_payload)

    @strawberry.mutation(
        extensions=access(ROLE_WRITERS),
        description="Revoke one permission (by id or key) from a custom role, keeping its others.",
    )
    async def revoke_role_permission(
        self,
        info: Info,
        input: Annotated[
            RolePermissionInput, strawberry.argument(description="The role and the permission.")
        ],
    ) -> RolePayload:
        call = roles.set_permission(info.context.services, input.ref(), input.permission_ref(), granted=False)
        return await mutation_payload(RolePayload, call, _role_payload)

    @strawberry.mutation(
        extensions=access(CATALOGUE_ADMINS), description="Add a custom permission to the catalogue."
    )
    async def create_permission(
        self,
        info: Info,
        input: Annotated[CreatePermissionInput, strawberry.argument(description="The new permission.")],
    ) -> PermissionPayload:
        call = permission_catalogue.create_permission(
            info.context.services, input.resource, input.action, input.name, input.description
        )
        return await mutation_payload(PermissionPayload, call, _permission_payload)

    @strawberry.mutation(
        extensions=access(CATALOGUE_ADMINS),
        description="Change a custom permission (built-in ones cannot be changed; a new key only while no "
        "role grants it).",
    )
    async def update_permission(
        self,
        info: Info,
        input: Annotated[
            UpdatePermissionInput, strawberry.argument(description="The permission and what changes.")
        ],
    ) -> PermissionPayload:
        call = permission_catalogue.update_permission(
            info.context.services,
            parse_uuid(input.id, "Permission"),
            resource=input.resource,
            action=input.action,
            name=input.name,
            description=input.description,
        )
        return await mutation_payload(PermissionPayload, call, _permission_payload)

    @strawberry.mutation(
        extensions=access(CATALOGUE_ADMINS),
        description="Delete a custom permission no role grants (PERMISSION_IN_USE otherwise); built-in ones "
        "cannot be deleted.",
    )
    async def delete_permission(
        self,
        info: Info,
        input: Annotated[DeletePermissionInput, strawberry.argument(description="The permission to delete.")],
    ) -> DeletePermissionPayload:
        call = permission_catalogue.delete_permission(
            info.context.services, parse_uuid(input.id, "Permission")
        )
        return await mutation_payload(
            DeletePermissionPayload,
            call,
            lambda deleted: DeletePermissionPayload(
                deleted_permission_id=relay.GlobalID("Permission", str(deleted))
            ),
        )
