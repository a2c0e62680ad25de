"""CCPA / Global Privacy Control (seed 001): a request with ``Sec-GPC: 1`` is do-not-sell for its
own handling (``scope["state"]["do_not_sell"]``, read into ServiceContext.do_not_sell) and its
response carries ``GPC: 1``."""

from __future__ import annotations

import logging

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.context import ServiceContext
from services.identity.privacy import record_gpc_opt_out

log = logging.getLogger(__name__)

GPC_REQUEST_HEADER = "sec-gpc"
GPC_RESPONSE_HEADER = "GPC"
DO_NOT_SELL = "do_not_sell"


def signals_gpc(scope: Scope) -> bool:
    return Headers(scope=scope).get(GPC_REQUEST_HEADER, "").strip() == "1"


def do_not_sell(scope: Scope) -> bool:
    """Whether the request signalled GPC (as the middleware recorded)."""
    return bool(scope.get("state", {}).get(DO_NOT_SELL, False))


class GpcMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not signals_gpc(scope):
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})[DO_NOT_SELL] = True

        async def send_with_gpc(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[GPC_RESPONSE_HEADER] = "1"
            await send(message)

        await self.app(scope, receive, send_with_gpc)


async def remember_gpc(services: ServiceContext) -> None:
    """A signed-in user's GPC request records their do-not-sell opt-out (once). Best effort: the
    request stays do-not-sell whether or not the record could be written now."""
    try:
        await record_gpc_opt_out(services)
    except Exception as error:  # the database away: the next GPC request records it
        log.warning("could not record the GPC opt-out: %s", error)
