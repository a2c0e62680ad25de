"""Role types: a role with its permissions (system or custom), and the inputs and payloads of
creating, changing, deleting and assigning roles."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry
from strawberry import relay

from models.identity.roles import CustomRole
from schema.errors import UserError, user_errors_field
from schema.nodes import parse_uuid
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
