"""Invite types: the invite (a Relay node, for tenant admins), what its token shows anyone, and
the inputs and payloads of creating, revoking and accepting one."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.permissions import Role
from models.identity.invites import Invite as InviteRow
from schema.enums import documented_enum
from schema.errors import UserError, user_errors_field
from schema.identity.accounts import User
from schema.nodes import Entity, node_or_none, node_type, parse_uuid
from services.identity.invites import InvitePreview, InviteStatus, invite_roles, invite_status, invites_by_id

documented_enum(
    InviteStatus,
    "Where an invite stands.",
    {
        InviteStatus.PENDING: "Sent; its link can be accepted until it expires.",
        InviteStatus.ACCEPTED: "Accepted: the invitee is a user of the tenant (the link works no more).",
        InviteStatus.REVOKED: "Revoked by an admin, or replaced by a newer invite of the address.",
        InviteStatus.EXPIRED: "Not accepted before its expiry.",
    },
)


@node_type
@strawberry.federation.type(
    keys=["id"], name="Invite", description="An invitation of an email address to join the tenant."
)
class Invite(Entity):
    invite_id: relay.NodeID[str]
    email: str = strawberry.field(description="The invited address (canonical form).")
    roles: list[Role] = strawberry.field(description="The roles the invitee gets on accepting.")
    status: InviteStatus = strawberry.field(description="Where the invite stands now.")
    created_at: datetime = strawberry.field(description="When it was sent (UTC).")
    expires_at: datetime = strawberry.field(description="When its link stops working (UTC).")
    accepted_at: datetime | None = strawberry.field(description="When it was accepted (UTC); null if not.")
    revoked_at: datetime | None = strawberry.field(description="When it was revoked (UTC); null if not.")
    invited_by_id: strawberry.Private[uuid.UUID | None]
    accepted_user_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, invite: InviteRow) -> Self:
        return cls(
            invite_id=str(invite.id),
            email=invite.email,
            roles=invite_roles(invite),
            status=invite_status(invite),
            created_at=invite.created_at,
            expires_at=invite.expires_at,
            accepted_at=invite.accepted_at,
            revoked_at=invite.revoked_at,
            invited_by_id=invite.invited_by,
            accepted_user_id=invite.accepted_user_id,
        )

    @strawberry.field(description="The admin who sent it; null once that account is gone.")
    async def invited_by(self, info: Info) -> User | None:
        return await node_or_none(User, info, self.invited_by_id)

    @strawberry.field(description="The user who accepted it (new or linked); null while not accepted.")
    async def accepted_user(self, info: Info) -> User | None:
        return await node_or_none(User, info, self.accepted_user_id)

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        ids = [parse_uuid(node_id, "Invite") for node_id in node_ids]
        found = await invites_by_id(info.context.services, ids)
        return [cls.from_model(found[i]) if i in found else None for i in ids]


@strawberry.type(
    name="InvitePreview", description="What an invite's token shows anyone holding it, before accepting."
)
class InvitePreviewType:
    tenant_name: str = strawberry.field(description="The tenant the invite is to.")
    email: str = strawberry.field(description="The invited address: the account's sign-in email.")
    roles: list[Role] = strawberry.field(description="The roles it gives.")
    expires_at: datetime = strawberry.field(description="When the link stops working (UTC).")

    @classmethod
    def from_preview(cls, preview: InvitePreview) -> Self:
        return cls(
            tenant_name=preview.tenant_name,
            email=preview.email,
            roles=preview.roles,
            expires_at=preview.expires_at,
        )


# ---- inputs -------------------------------------------------------------------------------


@strawberry.input(description="Whom to invite to the tenant, with which roles, until when.")
class CreateInviteInput:
    email: str = strawberry.field(description="The address to invite; must not be a user of the tenant yet.")
    roles: list[Role] = strawberry.field(
        default_factory=lambda: [Role.USER],
        description="Roles given on accepting (at least one; PLATFORM_ADMIN only by platform admins).",
    )
    expires_at: datetime | None = strawberry.field(
        default=None,
        description="When the link stops working: ahead, at most 30 days (7 days by default).",
    )


@strawberry.input(description="Which invites to list.")
class InviteFilterInput:
    status: InviteStatus | None = strawberry.field(default=None, description="Only invites in this status.")


@strawberry.input(description="One invite, by id.")
class InviteIdInput:
    id: relay.GlobalID = strawberry.field(description="The invite's global id.")


@strawberry.input(
    description="Accepting an invite: a new account's password and name, or the password of the "
    "tenant's existing account of the invited address (which is then linked)."
)
class AcceptInviteInput:
    token: str = strawberry.field(description="The token of the mailed link.")
    password: str = strawberry.field(
        description="A new account's password (at least 8 characters, not a common one), or the "
        "existing account's current password."
    )
    full_name: str | None = strawberry.field(
        default=None, description="The new account's name (required unless the account exists)."
    )


# ---- payloads -----------------------------------------------------------------------------


@strawberry.type(description="The result of a change to an invite: the invite as it is now, or userErrors.")
class InvitePayload:
    invite: Invite | None = strawberry.field(default=None, description="The invite after the change.")
    user_errors: list[UserError] = user_errors_field()
