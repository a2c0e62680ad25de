"""OAuth / OIDC sign-in (REST shims, services/identity/oauth.py behind them).

``GET /auth/oauth/{provider}?tenant=<slug>`` redirects to the provider (state, PKCE S256, nonce);
``GET /auth/oauth/{provider}/callback`` finishes the sign-in, sets the refresh token as an httpOnly,
Secure, SameSite=Lax cookie and redirects to the frontend (no token in any URL). Every refusal
redirects to the frontend with ``?error=<IdentityErrorCode>`` instead. ``POST /auth/oidc/logout``
ends the cookie's session and sends the browser to the provider's end_session_endpoint when it
has one; ``GET /auth/oidc/session`` answers whether the cookie's session is alive."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from strawberry.relay import to_base64

from core.errors import InvalidInput, ServiceError
from core.settings import Settings
from server.runtime import Runtime
from services.context import ServiceContext
from services.identity import oauth, oauth_cookies
from services.identity.oauth import public_base, url_of_callback
from services.identity.oauth_providers import configured_providers
from services.identity.security import IssuedChallenge
from services.identity.sessions import cookie_scope, refresh_cookie
from services.outages import log_outage, outage

log = logging.getLogger(__name__)
T = TypeVar("T")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class Refused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def frontend_redirect(settings: Settings, fragment: str = "", **params: str) -> RedirectResponse:
    """A redirect to the frontend URL with ``params`` added to its query."""
    parts = urlsplit(settings.frontend_url)
    query = urlencode([*parse_qsl(parts.query), *params.items()])
    target = urlunsplit(parts._replace(query=query, fragment=fragment or parts.fragment))
    return RedirectResponse(target, status_code=302, headers=NO_STORE)


def _services(request: Request) -> ServiceContext:
    runtime: Runtime = request.app.state.runtime
    return runtime.services_for(request)


async def _answer(call: Awaitable[T]) -> T:
    """The call's result; Refused with the code the frontend is told otherwise."""
    try:
        return await call
    except InvalidInput as refused:
        raise Refused(str(refused.problems[0].code)) from refused
    except ServiceError as refused:  # RATE_LIMITED, ...
        raise Refused(str(refused.code)) from refused
    except Exception as error:
        unavailable = outage(error)
        if unavailable is None:
            raise
        log_outage(error, "oauth")
        raise Refused(str(unavailable.code)) from error


async def oauth_start(request: Request) -> Response:
    settings: Settings = request.app.state.runtime.settings
    provider = request.path_params["provider"]
    base = public_base(settings, str(request.base_url))
    call = oauth.start(
        _services(request), provider, request.query_params.get("tenant", ""), url_of_callback(base, provider)
    )
    try:
        url = await _answer(call)
    except Refused as refused:
        return frontend_redirect(settings, error=refused.code)
    return RedirectResponse(url, status_code=302, headers=NO_STORE)


async def oauth_callback(request: Request) -> Response:
    settings: Settings = request.app.state.runtime.settings
    query = request.query_params
    call = oauth.finish(
        _services(request),
        request.path_params["provider"],
        state=query.get("state"),
        code=query.get("code"),
        error=query.get("error"),
        error_description=query.get("error_description"),
    )
    try:
        result = await _answer(call)
    except Refused as refused:
        log.info("oauth sign-in refused: %s", refused.code)
        return frontend_redirect(settings, error=refused.code)
    sign_in = result.sign_in
    if isinstance(sign_in, IssuedChallenge):
        # The challenge goes in the fragment, which browsers never send to any server: the
        # frontend completes it with a code (completeMfaLogin) and gets tokens then.
        kind = "setup_required" if sign_in.setup_required else "required"
        return frontend_redirect(settings, fragment=urlencode({"mfaChallenge": sign_in.challenge}), mfa=kind)
    response = frontend_redirect(settings)
    response.set_cookie(**refresh_cookie(settings, sign_in.refresh_token, sign_in.refresh_token_expires_at))
    return response


async def oidc_logout(request: Request) -> Response:
    """POST only: with SameSite=Lax no other site's page can make a browser send the cookie here."""
    settings: Settings = request.app.state.runtime.settings
    token = request.cookies.get(settings.refresh_cookie_name)
    try:
        provider = (
            await _answer(oauth_cookies.end_cookie_session(_services(request), token)) if token else None
        )
    except Refused as refused:
        return frontend_redirect(settings, error=refused.code)
    target = await provider.end_session_url() if provider is not None else ""
    if provider is not None and target:
        parts = urlsplit(target)
        params = {"client_id": provider.config.client_id, "post_logout_redirect_uri": settings.frontend_url}
        query = urlencode([*parse_qsl(parts.query), *params.items()])
        response: Response = RedirectResponse(
            urlunsplit(parts._replace(query=query)), status_code=303, headers=NO_STORE
        )
    else:
        response = frontend_redirect(settings)
        response.status_code = 303
    response.delete_cookie(**cookie_scope(settings))
    return response


async def oidc_session(request: Request) -> Response:
    settings: Settings = request.app.state.runtime.settings
    token = request.cookies.get(settings.refresh_cookie_name)
    try:
        found = await _answer(oauth_cookies.cookie_session(_services(request), token)) if token else None
    except Refused as refused:
        return JSONResponse({"active": False, "error": refused.code}, status_code=503, headers=NO_STORE)
    if found is None:
        return JSONResponse({"active": False}, headers=NO_STORE)
    return JSONResponse(
        {
            "active": True,
            "provider": found.provider,
            "userId": to_base64("User", found.user_id),
            "tenantId": to_base64("Tenant", found.tenant_id),
            "expiresAt": found.expires_at.isoformat(),
        },
        headers=NO_STORE,
    )


def oauth_routes(settings: Settings) -> list[BaseRoute]:
    """The routes; every configured provider is checked now (the server refuses to start with
    one that cannot work)."""
    configured_providers(settings)
    return [
        Route("/auth/oauth/{provider}", oauth_start, methods=["GET"]),
        Route("/auth/oauth/{provider}/callback", oauth_callback, methods=["GET"]),
        Route("/auth/oidc/logout", oidc_logout, methods=["POST"]),
        Route("/auth/oidc/session", oidc_session, methods=["GET"]),
    ]
