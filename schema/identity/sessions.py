"""Session types: one sign-in of the signed-in user (a Relay node), and the inputs and payloads
of revoking sessions and of signing out with a refresh token."""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import partial
from typing import Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.scope import TenantScope
from models.identity.accounts import AuthSession
from schema.errors import UserError, user_errors_field
from schema.nodes import Entity, load_nodes, node_type


def device_id_field() -> str | None:
    """The optional ``deviceId`` of the sign-in inputs (login, register)."""
    return strawberry.field(  # type: ignore[no-any-return]
        default=None, description="Your own id of the device, shown in mySessions (optional)."
    )


def device_name_field() -> str | None:
    """The optional ``deviceName`` of the sign-in inputs (login, register)."""
    return strawberry.field(  # type: ignore[no-any-return]
        default=None,
        description='A name for the device, e.g. "Ada\'s phone", shown in mySessions (optional).',
    )


@node_type
@strawberry.federation.type(
    keys=["id"],
    name="Session",
    description="One sign-in of yours (a device or browser): refresh tokens rotate within it; "
    "revoking it signs that device out at once.",
)
class Session(Entity):
    session_id: relay.NodeID[str]
    created_at: datetime = strawberry.field(description="When it was issued: the sign-in (UTC).")
    last_used_at: datetime = strawberry.field(
        description="When its refresh token was last traded for new tokens (UTC); the sign-in until then."
    )
    revoked_at: datetime | None = strawberry.field(
        description="When it was ended (UTC): by logout, revocation or a reused refresh token; null "
        "while open."
    )
    ip_address: str | None = strawberry.field(description="The address it signed in from.")
    user_agent: str | None = strawberry.field(description="The User-Agent it signed in with.")
    device_id: str | None = strawberry.field(description="The device id the client gave at sign-in.")
    device_name: str | None = strawberry.field(description="The device name the client gave at sign-in.")
    is_current: bool = strawberry.field(description="Whether this request is made in this session.")

    @classmethod
    def from_model(cls, row: AuthSession, current: uuid.UUID | None) -> Self:
        return cls(
            session_id=str(row.id),
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
            ip_address=row.client_ip,
            user_agent=row.user_agent,
            device_id=row.device_id,
            device_name=row.device_name,
            is_current=row.id == current,
        )

    @classmethod
    async def load(cls, info: Info, node_ids: list[str]) -> list[Self | None]:
        principal = info.context.principal
        if principal is None:
            return [None] * len(node_ids)
        # Only your own sessions, which are in your home tenant (also while acting in another).
        loaders = info.context.loaders_in(TenantScope.of(principal.home_tenant_id))
        return await load_nodes(
            node_ids,
            "Session",
            loaders.identity.auth_session,
            partial(cls.from_model, current=principal.session_id),
            lambda row: row.user_id == principal.user_id,
        )


@strawberry.input(description="One of your sessions, by id.")
class RevokeSessionInput:
    id: relay.GlobalID = strawberry.field(description="The session's global id (from mySessions).")


@strawberry.type(description="The result of revokeSession: the ended session, or userErrors.")
class RevokeSessionPayload:
    session: Session | None = strawberry.field(default=None, description="The session, now ended.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.input(description="Sign out with a refresh token instead of an access token.")
class LogoutInput:
    refresh_token: str | None = strawberry.field(
        default=None,
        description="The session's refresh token; when omitted, the refresh cookie's (if the request has "
        "no access token).",
    )
