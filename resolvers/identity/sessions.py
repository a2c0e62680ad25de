"""Session resolvers: your open sessions, revoking one or all the others, and the refresh token a
request presents (its input, or the httpOnly refresh cookie of a browser) with the cookie's
answers."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Annotated

import strawberry
from strawberry.types import Info

from core.errors import Unauthenticated
from schema.directives import AUTHENTICATED, access
from schema.errors import mutation_payload
from schema.identity.sessions import RevokeSessionInput, RevokeSessionPayload, Session
from schema.identity.sign_in import AuthPayload, LogoutPayload
from schema.nodes import parse_uuid
from schema.pagination import After, Before, Connection, First, Last, connection, page_args
from services.identity import auth, sessions
from services.identity.sessions import DEAD_TOKEN_CODES, cookie_scope, refresh_cookie


def _cookie(info: Info) -> str | None:
    """The request's refresh cookie; a websocket has none to answer with, so it is not read."""
    context = info.context
    if context.is_websocket or context.request is None:
        return None
    value: str | None = context.request.cookies.get(context.services.settings.refresh_cookie_name)
    return value or None


def _forget_cookie(info: Info) -> None:
    info.context.response.delete_cookie(**cookie_scope(info.context.services.settings))


@dataclass(frozen=True, slots=True)
class PresentedToken:
    """A refresh token and whether it came in the cookie (which its answer then keeps up to date)."""

    token: str
    from_cookie: bool

    def answered(self, info: Info, payload: AuthPayload) -> AuthPayload:
        """A refresh by cookie sets the rotated token as the cookie, and keeps it out of the body
        (out of scripts' reach); a token that can no longer work is cleared."""
        if not self.from_cookie:
            return payload
        if payload.refresh_token and payload.refresh_token_expires_at:
            settings = info.context.services.settings
            info.context.response.set_cookie(
                **refresh_cookie(settings, payload.refresh_token, payload.refresh_token_expires_at)
            )
            payload.refresh_token = None
        elif any(error.code in DEAD_TOKEN_CODES for error in payload.user_errors):
            _forget_cookie(info)
        return payload


def presented_refresh_token(info: Info, given: str | None) -> PresentedToken | None:
    """The input's refresh token, else the refresh cookie's; None without either."""
    if given:
        return PresentedToken(given, from_cookie=False)
    cookie = _cookie(info)
    return PresentedToken(cookie, from_cookie=True) if cookie else None


async def logout_presented(info: Info, given: str | None) -> LogoutPayload:
    """Sign out: the input's refresh token, else the access token's session (a refresh cookie beside
    it is cleared), else the cookie's token; UNAUTHENTICATED with none of them."""
    services = info.context.services
    if not given and services.principal is not None:
        ended = await auth.logout(services, everywhere=False)
        if _cookie(info):
            _forget_cookie(info)
        return LogoutPayload(sessions_ended=ended)
    presented = presented_refresh_token(info, given)
    if presented is None:
        raise Unauthenticated(
            "Sign in first: send an access token, or a refresh token in the input or the "
            f"{services.settings.refresh_cookie_name} cookie."
        )
    call = sessions.logout_with_refresh_token(services, presented.token)
    payload = await mutation_payload(LogoutPayload, call, lambda ended: LogoutPayload(sessions_ended=ended))
    if presented.from_cookie:
        _forget_cookie(info)  # it named a session that is over now, or none at all
    return payload


@strawberry.type
class SessionQuery:
    @strawberry.field(
        extensions=access(AUTHENTICATED),
        description="Your open sessions (signed in, not revoked, refresh token not expired), newest first.",
    )
    async def my_sessions(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Session]:
        services = info.context.services
        page = await sessions.list_my_sessions(services, page_args(first, after, last, before))
        current = services.require_principal().session_id
        return connection(page, partial(Session.from_model, current=current))


@strawberry.type
class SessionMutation:
    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="End one of your sessions (this one too): its tokens stop working at once and its "
        "subscriptions end. Another user's session is NOT_FOUND.",
    )
    async def revoke_session(
        self,
        info: Info,
        input: Annotated[RevokeSessionInput, strawberry.argument(description="The session to end.")],
    ) -> RevokeSessionPayload:
        services = info.context.services
        call = sessions.revoke_session(services, parse_uuid(input.id, "Session"))
        current = services.require_principal().session_id
        return await mutation_payload(
            RevokeSessionPayload,
            call,
            lambda row: RevokeSessionPayload(session=Session.from_model(row, current)),
        )

    @strawberry.mutation(
        extensions=access(AUTHENTICATED),
        description="End all your sessions but this one: sign out every other device.",
    )
    async def revoke_other_sessions(self, info: Info) -> LogoutPayload:
        ended = await sessions.revoke_other_sessions(info.context.services)
        return LogoutPayload(sessions_ended=ended)
