"""Invite resolvers: tenant admins create, list and revoke invites; anyone holding a token sees
what it offers and accepts it (signing in)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from core.permissions import TENANT_ADMINS
from models.identity.invites import Invite as InviteRow
from resolvers.identity.sign_in import auth_payload
from schema.directives import PUBLIC, HasRole, access
from schema.errors import mutation_payload
from schema.identity.invites import (
    AcceptInviteInput,
    CreateInviteInput,
    Invite,
    InviteFilterInput,
    InviteIdInput,
    InvitePayload,
    InvitePreviewType,
)
from schema.identity.sign_in import AuthPayload
from schema.nodes import parse_uuid
from schema.pagination import FILTER, After, Before, Connection, First, Last, connection, page_args
from services.identity import invites

TENANT_ADMIN = HasRole(*TENANT_ADMINS)


def _invite_payload(invite: InviteRow) -> InvitePayload:
    return InvitePayload(invite=Invite.from_model(invite))


@strawberry.type
class InviteQuery:
    @strawberry.field(extensions=access(TENANT_ADMIN), description="The tenant's invites, newest first.")
    async def invites(
        self,
        info: Info,
        filter: Annotated[InviteFilterInput | None, FILTER] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Invite]:
        status = filter.status if filter else None
        page = await invites.list_invites(
            info.context.services, status, page_args(first, after, last, before)
        )
        return connection(page, Invite.from_model)

    @strawberry.field(
        extensions=access(PUBLIC),
        description="What an invite link offers (tenant, email, roles, expiry) while it can be accepted; "
        "null for a token that is unknown, used, revoked or expired.",
    )
    async def invite_by_token(
        self,
        info: Info,
        token: Annotated[str, strawberry.argument(description="The token of the mailed link.")],
    ) -> InvitePreviewType | None:
        preview = await invites.preview_invite(info.context.services, token)
        return InvitePreviewType.from_preview(preview) if preview else None


@strawberry.type
class InviteMutation:
    @strawberry.mutation(
        extensions=access(TENANT_ADMIN),
        description="Invite an email address to the tenant: the accept link goes out by mail (an earlier "
        "pending invite of the address is revoked).",
    )
    async def create_invite(
        self,
        info: Info,
        input: Annotated[
            CreateInviteInput, strawberry.argument(description="Whom, which roles, until when.")
        ],
    ) -> InvitePayload:
        call = invites.create_invite(
            info.context.services, email=input.email, roles=input.roles, expires_at=input.expires_at
        )
        return await mutation_payload(InvitePayload, call, _invite_payload)

    @strawberry.mutation(
        extensions=access(TENANT_ADMIN), description="Revoke a pending invite: its link stops working."
    )
    async def revoke_invite(
        self,
        info: Info,
        input: Annotated[InviteIdInput, strawberry.argument(description="The invite to revoke.")],
    ) -> InvitePayload:
        call = invites.revoke_invite(info.context.services, parse_uuid(input.id, "Invite"))
        return await mutation_payload(InvitePayload, call, _invite_payload)

    @strawberry.mutation(
        extensions=access(PUBLIC),
        description="Accept an invite and sign in: creates the account, or links the tenant's existing "
        "account of the invited address given its password. The token works once.",
    )
    async def accept_invite(
        self,
        info: Info,
        input: Annotated[
            AcceptInviteInput,
            strawberry.argument(description="The token and the account's password (and name)."),
        ],
    ) -> AuthPayload:
        call = invites.accept_invite(info.context.services, input.token, input.password, input.full_name)
        return await mutation_payload(AuthPayload, call, lambda s: auth_payload(info, s))
