"""The GraphQL endpoint: HTTP (POST, and GET for queries), graphql-transport-ws and graphql-ws."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.federation import Schema
from strawberry.http import GraphQLRequestData, GraphQLRequestProtocol
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from core import fast_json
from core.errors import Forbidden, ServiceError
from core.metrics import errors
from core.principal import Principal, PrincipalKind
from core.scopes import RefusalReason
from models.db import Reads, RequestReads
from schema.context import RequestContext
from server.batches import batch_problem
from server.credentials import TENANT_HEADER, acting_tenant
from server.errors import STATUS_OF_CODE, code_of_status, graphql_error
from server.gpc import do_not_sell, remember_gpc
from server.graphiql import graphiql_page
from server.runtime import Runtime
from server.websocket_limits import (
    LegacyWsHandler,
    SizeLimitedWebSocket,
    TransportWsHandler,
    connection_bearer,
    connection_params,
)
from services.identity.credentials import API_KEY_HEADER, principal_of, request_credential
from services.identity.origins import TenantOrigins, normalised_origin
from services.outages import log_outage, outage

log = logging.getLogger(__name__)

READS_KEY = "tenantgraph.reads"
# What each method may run over HTTP (strawberry would run a subscription sent over POST and fail
# with INTERNAL_SERVER_ERROR): subscriptions need a websocket, mutations POST.
_HTTP_OPERATIONS = {"GET": {OperationType.QUERY}, "POST": {OperationType.QUERY, OperationType.MUTATION}}
SUBSCRIPTION_OVER_HTTP = (
    "Subscriptions are not served over HTTP: open a websocket to /graphql "
    "(graphql-transport-ws or graphql-ws) and subscribe there."
)
MUTATION_OVER_GET = "Mutations are not allowed over GET: send them with POST."
NOT_AN_OPERATION = "Expected a JSON object (an operation), or an array of them (a batch)."


class RequestRejected(Exception):
    def __init__(self, error: ServiceError) -> None:
        self.error = error


class GraphQLEndpoint(GraphQL[RequestContext, None]):
    # Both websocket protocols with the limits of server/websocket_limits.py.
    graphql_transport_ws_handler_class = TransportWsHandler
    graphql_ws_handler_class = LegacyWsHandler
    websocket_adapter_class = SizeLimitedWebSocket

    def __init__(self, schema: Schema, runtime: Runtime, tenant_origins: TenantOrigins) -> None:
        settings = runtime.settings
        super().__init__(
            schema,
            # The page is ours (render_graphql_ide); strawberry only decides when to show it.
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
            allow_queries_via_get=True,
            allowed_origins=settings.allowed_origins,
            keep_alive=True,
            keep_alive_interval=15,
            connection_init_wait_timeout=runtime.websocket_limits.init_timeout,
            max_subscriptions_per_connection=runtime.websocket_limits.max_operations,
        )
        self.runtime = runtime
        self.websocket_limits = runtime.websocket_limits
        self.tenant_origins = tenant_origins

    def is_websocket_origin_allowed(self, request: WebSocket, origin: str) -> bool:
        """The settings' origins, and those tenants list (Tenant.allowedOrigins) as CORS allows
        them: a websocket carries its token in connection_init, never a cookie, so a listed origin
        gains nothing another tenant's user holds."""
        if super().is_websocket_origin_allowed(request, origin):
            return True
        normalised = normalised_origin(origin)
        return normalised is not None and normalised in self.tenant_origins.known()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # One connection serves every read of an HTTP request (a websocket lives for hours: its
        # reads each take a pooled connection for a moment instead).
        reads = RequestReads(self.runtime.db) if scope["type"] == "http" else None
        if scope["type"] == "websocket":
            # The handshake's origin check (below) is not async: bring the tenants' origins up to date.
            await self.tenant_origins.current()
        scope.setdefault("state", {})[READS_KEY] = reads
        try:
            await self._serve(scope, receive, send)
        except ClientDisconnect:
            # Nobody is left to answer: one line, not a traceback.
            log.info("client disconnected before its %s %s was read", scope.get("method"), scope.get("path"))
        finally:
            if reads is not None:
                await reads.close()

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        # As strawberry's own __call__, but what it refuses before running anything is answered
        # with a GraphQL error body (strawberry answers it in plain text).
        try:
            response = await self.run(Request(scope, receive))
        except RequestRejected as rejected:  # the credentials are bad, or cannot be read now
            error = rejected.error
            challenge = {"WWW-Authenticate": "Bearer"} if error.code == "UNAUTHENTICATED" else None
            status = STATUS_OF_CODE.get(error.code, 400)
            response = graphql_error(
                status, error.message, challenge, code=error.code, extensions=error.extensions
            )
            errors(error.code).inc()
        except HTTPException as refused:  # bad JSON, no query, a subscription over HTTP, ...
            allow = {"Allow": "POST"} if refused.status_code == 405 else None
            response = graphql_error(refused.status_code, refused.reason, allow)
            errors(code_of_status(refused.status_code)).inc()
        await response(scope, receive, send)

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql_page(self.runtime.settings)

    def encode_json(self, data: object) -> str:
        # Text, not bytes: strawberry sends bytes over a websocket as a binary frame, which
        # graphql-ws clients do not read.
        return fast_json.dumps(data).decode()

    def parse_json(self, data: str | bytes) -> Any:
        parsed = super().parse_json(data)
        # A body (bytes) is an operation or a batch: strawberry reads any other JSON value (1, "x",
        # null) as an operation, an AttributeError. GET's variables and extensions (str) may be
        # null; strawberry checks their types itself.
        if isinstance(data, bytes) and not isinstance(parsed, dict | list):
            raise HTTPException(400, NOT_AN_OPERATION)
        return parsed

    def _validate_batch_request(
        self, request_data: list[GraphQLRequestData], protocol: GraphQLRequestProtocol
    ) -> None:
        # strawberry's own check of a batch (on, and over no streaming transport), after ours:
        # its items are the raw JSON, which strawberry trusts to be operations.
        if (problem := batch_problem(request_data, self.runtime.settings.max_batch_operations)) is not None:
            raise HTTPException(400, problem)
        super()._validate_batch_request(request_data, protocol)

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: RequestContext,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """strawberry's own, but with what each method may run (_HTTP_OPERATIONS) and clear
        refusals."""
        method = request_adapter.method
        try:
            return await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=_HTTP_OPERATIONS.get(method, set()),
                operation_extensions=request_data.extensions,
            )
        except InvalidOperationTypeError as error:
            if error.operation_type is OperationType.SUBSCRIPTION:
                raise HTTPException(400, SUBSCRIPTION_OVER_HTTP) from error
            raise HTTPException(405, MUTATION_OVER_GET) from error
        except CannotGetOperationTypeError as error:
            raise HTTPException(400, error.as_http_error_reason()) from error
        except MissingQueryError as error:
            raise HTTPException(400, "No GraphQL query found in the request.") from error

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        is_websocket = isinstance(request, WebSocket)
        runtime = self.runtime
        reads: RequestReads | None = request.scope.get("state", {}).get(READS_KEY)
        services = runtime.services_for(request, reads=reads)
        context = RequestContext(
            services=services,
            broadcast=runtime.broadcast,
            payment_provider=runtime.payment_provider,
            cloud_provider=runtime.cloud_provider,
            fanout=runtime.fanout,
            access=runtime.access,
            maintenance=runtime.maintenance,
            correlation_id=request.scope.get("state", {}).get("correlation_id", "-"),
            request=request,
            response=response,
            is_websocket=is_websocket,
        )
        if not is_websocket:
            headers = request.headers
            services.principal = await self._principal(
                reads,
                partial(request_credential, headers.get("authorization"), headers.get(API_KEY_HEADER)),
                headers.get(TENANT_HEADER),
                services.client_ip,
            )
            services.do_not_sell = do_not_sell(request.scope)
            if services.do_not_sell:
                await remember_gpc(services)
        return context

    async def _principal(
        self,
        reads: Reads | None,
        read_bearer: Callable[[], str | None],
        tenant_header: str | None,
        client_ip: str = "unknown",
    ) -> Principal | None:
        """The caller: None when anonymous; RequestRejected when the credentials are malformed
        (an unknown Authorization scheme, a bad X-Tenant-Id), bad, or cannot be checked now."""
        try:
            token, tenant_id = read_bearer(), acting_tenant(tenant_header)
            if token is None:
                if tenant_id is not None:
                    raise Forbidden("X-Tenant-Id is for signed-in platform administrators.")
                return None
            runtime = self.runtime
            return await principal_of(
                runtime.access, runtime.settings, runtime.api_keys, token, tenant_id, client_ip, reads
            )
        except ServiceError as error:
            raise RequestRejected(error) from error
        except Exception as error:
            # The database away while the access state is read: try again, not a 500.
            unavailable = outage(error)
            if unavailable is None:
                raise
            log_outage(error, "authentication")
            raise RequestRejected(unavailable) from error

    async def on_ws_connect(self, context: RequestContext) -> dict[str, Any] | None:
        """Websockets authenticate in connection_init: {"Authorization": "Bearer <token>"}; the
        limits of server/websocket_limits.py hold from then on."""
        params = connection_params(context.connection_params)
        try:
            principal = await self._principal(
                None, partial(connection_bearer, params), params.get(TENANT_HEADER)
            )
        except RequestRejected as rejected:
            raise ConnectionRejectionError(
                {"code": rejected.error.code, "message": rejected.error.message}
            ) from rejected
        if principal is None:
            # Every subscription needs a signed-in caller: an anonymous connection serves nothing.
            raise ConnectionRejectionError(
                {"code": "UNAUTHENTICATED", "message": "connection_init needs Authorization: Bearer <token>."}
            )
        if principal.kind is not PrincipalKind.SESSION:
            # Subscriptions follow a sign-in session's access (the access store): keys and service
            # tokens are for HTTP.
            raise ConnectionRejectionError(
                {
                    "code": "FORBIDDEN",
                    "reason": RefusalReason.SESSION_REQUIRED,
                    "message": "Subscriptions need a user's access token, not an API key or service token.",
                }
            )
        context.services.principal = principal
        # Counted among its user's connections (refused over their limit), until its token expires.
        self.websocket_limits.admit(context)
        return None
