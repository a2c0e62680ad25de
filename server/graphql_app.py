"""The GraphQL endpoint: HTTP (POST, and GET for queries), graphql-transport-ws and graphql-ws."""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.federation import Schema

from core.errors import Forbidden, ServiceError
from core.principal import Principal
from models.db import Reads, RequestReads
from schema.context import RequestContext
from server.runtime import Runtime
from services.context import ServiceContext
from services.identity.auth import authenticate

log = logging.getLogger(__name__)

TENANT_HEADER = "x-tenant-id"
READS_KEY = "tenantgraph.reads"
_STATUS_OF_CODE = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403}


def _bearer(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class RequestRejected(Exception):
    def __init__(self, error: ServiceError) -> None:
        self.error = error


class GraphQLEndpoint(GraphQL[RequestContext, None]):
    def __init__(self, schema: Schema, runtime: Runtime) -> None:
        settings = runtime.settings
        super().__init__(
            schema,
            graphql_ide=None if settings.production else "graphiql",
            allow_queries_via_get=True,
            allowed_origins=settings.allowed_origins,
            keep_alive=True,
            keep_alive_interval=15,
        )
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # One connection serves every read of an HTTP request (a websocket lives for hours: its
        # reads each take a pooled connection for a moment instead).
        reads = RequestReads(self.runtime.db) if scope["type"] == "http" else None
        scope.setdefault("state", {})[READS_KEY] = reads
        try:
            await super().__call__(scope, receive, send)
        except ClientDisconnect:
            # Nobody is left to answer: one line, not a traceback.
            log.info("client disconnected before its %s %s was read", scope.get("method"), scope.get("path"))
        except RequestRejected as rejected:
            # The request's credentials are bad: answer before running anything.
            error = rejected.error
            response = JSONResponse(
                {"data": None, "errors": [{"message": error.message, "extensions": {"code": error.code}}]},
                status_code=_STATUS_OF_CODE.get(error.code, 400),
                headers={"WWW-Authenticate": "Bearer"} if error.code == "UNAUTHENTICATED" else None,
            )
            await response(scope, receive, send)
        finally:
            if reads is not None:
                await reads.close()

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        is_websocket = isinstance(request, WebSocket)
        runtime = self.runtime
        reads: RequestReads | None = request.scope.get("state", {}).get(READS_KEY)
        services = ServiceContext(
            db=runtime.db,
            reads=reads,
            settings=runtime.settings,
            rate_limiter=runtime.rate_limiter,
            client_ip=request.client.host if request.client else "unknown",
            user_agent=request.headers.get("user-agent"),
            on_events_committed=runtime.dispatcher.wake,
            on_access_changed=runtime.access.forget,
        )
        context = RequestContext(
            services=services,
            broadcast=runtime.broadcast,
            payment_provider=runtime.payment_provider,
            fanout=runtime.fanout,
            access=runtime.access,
            correlation_id=request.scope.get("state", {}).get("correlation_id", "-"),
            request=request,
            response=response,
            is_websocket=is_websocket,
        )
        if not is_websocket:
            services.principal = await self._principal(
                reads, _bearer(request.headers.get("authorization")), request.headers.get(TENANT_HEADER)
            )
        return context

    async def _principal(
        self, reads: Reads | None, token: str | None, acting_tenant: str | None
    ) -> Principal | None:
        try:
            if token is None:
                if acting_tenant:
                    raise Forbidden("X-Tenant-Id is for signed-in platform administrators.")
                return None
            return await authenticate(self.runtime.access, self.runtime.settings, token, acting_tenant, reads)
        except ServiceError as error:
            raise RequestRejected(error) from error

    async def on_ws_connect(self, context: RequestContext) -> dict[str, Any] | None:
        """Websockets authenticate in connection_init: {"Authorization": "Bearer <token>"}."""
        params = {k.lower(): v for k, v in (context.connection_params or {}).items() if isinstance(v, str)}
        token = _bearer(params.get("authorization")) or params.get("authtoken")
        if token is None:
            # Every subscription needs a signed-in caller: an anonymous connection serves nothing.
            raise ConnectionRejectionError(
                {"code": "UNAUTHENTICATED", "message": "connection_init needs Authorization: Bearer <token>."}
            )
        try:
            context.services.principal = await self._principal(None, token, params.get(TENANT_HEADER))
        except RequestRejected as rejected:
            raise ConnectionRejectionError(
                {"code": rejected.error.code, "message": rejected.error.message}
            ) from rejected
        return None
