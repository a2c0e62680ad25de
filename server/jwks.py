"""GET /.well-known/jwks.json: the public keys access tokens are signed with (RFC 7517), so that a
gateway or another service can verify them without asking us. HS* tokens are signed with a shared
secret, which is never published: their key set is empty."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from server.runtime import Runtime

# Long enough to spare the endpoint, short enough that a key added for a rotation is seen soon.
CACHE_SECONDS = 300


async def jwks(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    return JSONResponse(
        dict(runtime.settings.token_keys.jwks),
        headers={"Cache-Control": f"public, max-age={CACHE_SECONDS}"},
    )
