"""Role types: a role with its permissions (system or custom), the permission catalogue's
entries, and the inputs and payloads of creating, changing, deleting and assigning roles, of
granting or revoking one permission, and of administering the catalogue."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry
from strawberry import relay

from models.identity.roles import CustomRole
from schema.errors import UserError, user_errors_field
from schema.nodes import parse_uuid
from services.identity.permission_catalogue import PermissionEntry, PermissionFilter, PermissionRef
from services.identity.roles import RoleRef, RoleView


@strawberry.type(
    name="RoleDetail",
    description="A role of the tenant with the permissions (`resource:action`) it grants: a system "
    "role (read-only, its defaults) or a custom role.",
)
class RoleDetail:
    id: relay.GlobalID | None = strawberry.field(description="A custom role's id; null for a system role.")
    name: str = strawberry.field(description="Unique in the tenant; a system role's name is its Role value.")
    description: str = strawberry.field(description="What the role is for.")
    permissions: list[str] = strawberry.field(description="The permissions it grants, sorted.")
    system: bool = strawberry.field(description="A system role: cannot be changed or deleted.")
    created_at: datetime | None = strawberry.field(description="When a custom role was created (UTC).")
    updated_at: datetime | None = strawberry.field(description="When a custom role last changed (UTC).")

    @classmethod
    def from_view(cls, view: RoleView) -> Self:
        custom = view.custom
        return cls(
            id=relay.GlobalID("CustomRole", str(custom.id)) if custom else None,
            name=view.name,
            description=view.description,
            permissions=list(view.permissions),
            system=view.system,
            created_at=custom.created_at if custom else None,
            updated_at=custom.updated_at if custom else None,
        )

    @classmethod
    def from_model(cls, role: CustomRole) -> Self:
        return cls.from_view(RoleView.of_custom(role))


@strawberry.type(
    name="Permission",
    description="An entry of the permission catalogue: what a custom role may grant, as `resource:action`. "
    "Built-in entries (the ones the API checks) cannot be changed; platform admins add custom ones.",
)
class PermissionType:
    id: relay.GlobalID = strawberry.field(description="Stable id (a built-in's is the same everywhere).")
    key: str = strawberry.field(description="`resource:action`: what roles grant and directives check.")
    resource: str = strawberry.field(description="What it is about, e.g. `orders`.")
    action: str = strawberry.field(description="What it allows on the resource, e.g. `read`.")
    name: str = strawberry.field(description="A readable name, e.g. `read_orders`.")
    description: str = strawberry.field(description="What it allows.")
    builtin: bool = strawberry.field(description="Built in: cannot be changed or deleted.")
    created_at: datetime | None = strawberry.field(description="When a custom one was added (UTC).")
    updated_at: datetime | None = strawberry.field(description="When a custom one last changed (UTC).")

    @classmethod
    def from_entry(cls, entry: PermissionEntry) -> Self:
        return cls(
            id=relay.GlobalID("Permission", str(entry.id)),
            key=entry.key,
            resource=entry.resource,
            action=entry.action,
            name=entry.name,
            description=entry.description,
            builtin=entry.builtin,
            created_at=entry.created_at,
            updated_at=entry.updated_at,
        )


# ---- inputs -------------------------------------------------------------------------------


@strawberry.input(description="A new custom role.")
class CreateRoleInput:
    name: str = strawberry.field(
        description="1 to 64 characters, unique in the tenant, no system role's name."
    )
    description: str = strawberry.field(default="", description="What it is for (at most 500 characters).")
    permissions: list[str] = strawberry.field(
        default_factory=list, description="Permissions from the catalogue (the `permissions` query)."
    )


@strawberry.input(description="One role, by id (custom roles) or by name (system or custom): exactly one.")
class RoleRefInput:
    role_id: relay.GlobalID | None = strawberry.field(default=None, description="A custom role's id.")
    role_name: str | None = strawberry.field(default=None, description="A role's name.")

    def ref(self) -> RoleRef:
        role_id = parse_uuid(self.role_id, "CustomRole") if self.role_id is not None else None
        return RoleRef(role_id=role_id, role_name=self.role_name)


@strawberry.input(description="A change to a custom role: what is given is replaced.")
class UpdateRoleInput(RoleRefInput):
    name: str | None = strawberry.field(default=None, description="The new name.")
    description: str | None = strawberry.field(default=None, description="The new description.")
    permissions: list[str] | None = strawberry.field(
        default=None,
        description="The new permissions (all of them); the role's holders have them on their next request.",
    )


@strawberry.input(description="A role given to or taken from a user.")
class UserRoleInput(RoleRefInput):
    user_id: relay.GlobalID = strawberry.field(description="The user's global id.")


@strawberry.input(description="One permission granted to or revoked from a custom role.")
class RolePermissionInput(RoleRefInput):
    permission_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The catalogue entry's id; or give `permission`."
    )
    permission: str | None = strawberry.field(
        default=None, description="The permission's key (`resource:action`); or give `permissionId`."
    )

    def permission_ref(self) -> PermissionRef:
        permission_id = (
            parse_uuid(self.permission_id, "Permission") if self.permission_id is not None else None
        )
        return PermissionRef(permission_id=permission_id, key=self.permission)


@strawberry.input(description="Which catalogue entries to list.")
class PermissionFilterInput:
    resource: str | None = strawberry.field(default=None, description="Only this resource's.")
    builtin: bool | None = strawberry.field(
        default=None, description="Only built-in (true) or custom (false)."
    )

    def to_filter(self) -> PermissionFilter:
        return PermissionFilter(resource=self.resource, builtin=self.builtin)


@strawberry.input(description="A new custom permission of the catalogue.")
class CreatePermissionInput:
    resource: str = strawberry.field(description="1 to 32 of a-z, 0-9 and _, starting with a letter.")
    action: str = strawberry.field(description="1 to 32 of a-z, 0-9 and _, starting with a letter.")
    name: str | None = strawberry.field(
        default=None, description="A readable name (default action_resource)."
    )
    description: str = strawberry.field(default="", description="What it allows (at most 500 characters).")


@strawberry.input(description="A change to a custom permission: what is given is replaced.")
class UpdatePermissionInput:
    id: relay.GlobalID = strawberry.field(description="The custom permission.")
    resource: str | None = strawberry.field(
        default=None, description="A new resource (while no role grants it)."
    )
    action: str | None = strawberry.field(default=None, description="A new action (while no role grants it).")
    name: str | None = strawberry.field(default=None, description="A new name.")
    description: str | None = strawberry.field(default=None, description="A new description.")


@strawberry.input(description="A custom permission to delete.")
class DeletePermissionInput:
    id: relay.GlobalID = strawberry.field(description="The custom permission (no role may grant it).")


# ---- payloads -----------------------------------------------------------------------------


@strawberry.type(description="The custom role after the change, or userErrors.")
class RolePayload:
    role: RoleDetail | None = strawberry.field(default=None, description="The role after the change.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The deleted role's id, or userErrors.")
class DeleteRolePayload:
    deleted_role_id: relay.GlobalID | None = strawberry.field(default=None, description="The deleted role.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The user's roles after the change, or userErrors.")
class UserRolesPayload:
    roles: list[RoleDetail] | None = strawberry.field(default=None, description="The user's roles now.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The catalogue entry after the change, or userErrors.")
class PermissionPayload:
    permission: PermissionType | None = strawberry.field(
        default=None, description="The entry after the change."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The deleted permission's id, or userErrors.")
class DeletePermissionPayload:
    deleted_permission_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The deleted permission."
    )
    user_errors: list[UserError] = user_errors_field()
