"""``POST /oauth/token``: the OAuth2 client-credentials grant (RFC 6749 section 4.4) for service
clients (services/identity/service_clients.py).

The body is ``application/x-www-form-urlencoded`` with ``grant_type=client_credentials`` and an
optional ``scope``; the client authenticates with HTTP Basic (RFC 6749 section 2.3.1: id and
secret form-urlencoded, then base64) or with ``client_id`` and ``client_secret`` in the body, not
both. The answer is section 5.1's JSON (``access_token``, ``token_type``, ``expires_in``,
``scope``), never cached; a refusal is section 5.2's JSON ``error`` with 400, or 401 for a client
that failed to authenticate, 429 (``slow_down``, with Retry-After) over the attempt limit and 503
(``temporarily_unavailable``) while the database is away: never a 500."""

from __future__ import annotations

import base64
import binascii
import logging
from urllib.parse import parse_qsl, unquote_plus

from starlette.requests import Request
from starlette.responses import JSONResponse

from server.runtime import Runtime
from services.identity.service_clients import TokenRefused, issue_token
from services.outages import log_outage, outage

log = logging.getLogger(__name__)

FORM = "application/x-www-form-urlencoded"
MAX_BODY_BYTES = 4096
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
PARAMETERS = frozenset({"grant_type", "scope", "client_id", "client_secret"})


def _refusal(refused: TokenRefused) -> JSONResponse:
    headers = dict(NO_STORE)
    if refused.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="tenantgraph"'
    if refused.retry_after is not None:
        headers["Retry-After"] = str(refused.retry_after)
    return JSONResponse(
        {"error": refused.error, "error_description": refused.description},
        status_code=refused.status,
        headers=headers,
    )


def _form(body: bytes) -> dict[str, str]:
    """The body's parameters; invalid_request for a malformed body or a repeated parameter."""
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError) as exc:
        raise TokenRefused(
            "invalid_request", "The body is not a form (application/x-www-form-urlencoded)."
        ) from exc
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise TokenRefused("invalid_request", f"The parameter {name} is repeated.")
        form[name] = value
    return form


def _basic(authorization: str | None) -> tuple[str, str] | None:
    if authorization is None:
        return None
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        raise TokenRefused("invalid_client", "Authenticate the client with HTTP Basic or in the body.", 401)
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise TokenRefused(
            "invalid_client", "The Basic credentials are not base64 of id:secret.", 401
        ) from exc
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise TokenRefused("invalid_client", "The Basic credentials are not base64 of id:secret.", 401)
    return unquote_plus(client_id), unquote_plus(secret)


def _credentials(form: dict[str, str], authorization: str | None) -> tuple[str, str]:
    basic = _basic(authorization)
    in_body = "client_id" in form or "client_secret" in form
    if basic is not None and in_body:
        raise TokenRefused("invalid_request", "Authenticate the client one way: HTTP Basic or the body.")
    if basic is not None:
        return basic
    if not form.get("client_id") or "client_secret" not in form:
        raise TokenRefused("invalid_client", "Client authentication is missing.", 401)
    return form["client_id"], form["client_secret"]


async def _grant(request: Request, runtime: Runtime) -> JSONResponse:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM:
        raise TokenRefused("invalid_request", f"Send the parameters as {FORM}.")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise TokenRefused("invalid_request", f"The body is over {MAX_BODY_BYTES} bytes.")
    form = _form(body)
    if "grant_type" not in form:
        raise TokenRefused("invalid_request", "grant_type is missing.")
    if form["grant_type"] != "client_credentials":
        raise TokenRefused("unsupported_grant_type", "Only grant_type=client_credentials is served here.")
    unknown = sorted(set(form) - PARAMETERS)
    if unknown:
        raise TokenRefused("invalid_request", f"Unknown parameter {unknown[0]}.")
    client_id, client_secret = _credentials(form, request.headers.get("authorization"))
    grant = await issue_token(
        runtime.db,
        runtime.settings,
        runtime.rate_limiter,
        request.client.host if request.client else "unknown",
        client_id,
        client_secret,
        form.get("scope"),
    )
    answer = {
        "access_token": grant.access_token,
        "token_type": "Bearer",
        "expires_in": grant.expires_in,
        "scope": grant.scope,
    }
    return JSONResponse(answer, headers=NO_STORE)


async def oauth_token(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    try:
        return await _grant(request, runtime)
    except TokenRefused as refused:
        return _refusal(refused)
    except Exception as error:
        if outage(error) is None:
            raise
        log_outage(error, "oauth token")
        return _refusal(TokenRefused("temporarily_unavailable", "Try again in a moment.", 503))
