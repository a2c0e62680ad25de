"""The ASGI application: GraphQL, probes and middleware around one Runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute

from core.settings import Settings
from server.api_key_validation import validate_api_key
from server.audit_logs import AuditedShims, audit_logs
from server.avatars import avatar_upload, library_avatar, uploaded_avatar
from server.cors import TenantCors
from server.data_exports import data_export_download
from server.demo_dashboard import demo_routes
from server.dns_export import dns_zone_export
from server.downloads import invoice_pdf_download
from server.errors import EXCEPTION_HANDLERS
from server.gpc import GpcMiddleware
from server.graphiql import graphiql_routes
from server.graphql_app import GraphQLEndpoint
from server.health import deep_health, health, readiness
from server.jwks import jwks
from server.landing import landing_routes
from server.logging import configure_logging
from server.maintenance import MaintenanceMiddleware
from server.metrics import instrument_database, metrics, process_stopped
from server.middleware import BodyLimitMiddleware, CorrelationIdMiddleware, OutageMiddleware
from server.oauth import oauth_routes
from server.oauth_token import oauth_token
from server.observe import OperationObserver
from server.payment_callbacks import payment_callback
from server.runtime import Runtime
from server.stream_ingest import ingest_publish, ingest_publish_done
from server.tracing import Tracing
from server.webhooks import hyperswitch_webhook, stripe_webhook
from services.identity.origins import TenantOrigins
from subgraph.build import build_schema


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    settings.check_for_production()
    configure_logging(settings.log_level, json_lines=settings.production)
    runtime = Runtime.create(settings)
    instrument_database(runtime.db)
    observers = [OperationObserver.factory(settings.slow_operation_ms)]
    if tracing := Tracing.create(settings):
        observers.append(tracing.extension())
        tracing.instrument(runtime.db)
    tenant_origins = TenantOrigins(runtime.db, settings.tenant_origins_refresh_seconds)
    schema = build_schema(settings, observers, runtime.maintenance, group=settings.subgraph)
    graphql = GraphQLEndpoint(schema, runtime, tenant_origins)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()
            process_stopped()
            if tracing:
                tracing.shutdown()

    # Tracing outermost: its span covers all the rest.
    middleware = [tracing.middleware()] if tracing else []
    middleware.append(Middleware(CorrelationIdMiddleware))
    middleware.append(Middleware(GpcMiddleware))
    # CORS outside the others: a browser can read their refusals (413, 503) too.
    middleware.append(Middleware(TenantCors, settings=settings, origins=tenant_origins))
    middleware += [
        Middleware(OutageMiddleware),
        Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes),
        Middleware(MaintenanceMiddleware, gate=runtime.maintenance),
        # Innermost: it sees each REST shim's own answer (services/audit.py).
        Middleware(AuditedShims),
    ]
    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            *graphiql_routes(settings),
            *demo_routes(settings),
            Route("/health", health),
            Route("/healthz", health),
            Route("/readyz", readiness),
            Route("/metrics", metrics, methods=["GET"]),
            Route("/health/deep", deep_health),
            *landing_routes(graphql.schema, settings),
            Route("/.well-known/jwks.json", jwks, methods=["GET"]),
            Route("/oauth/token", oauth_token, methods=["POST"]),
            Route("/audit-logs", audit_logs, methods=["POST"]),
            Route("/api-keys/validate", validate_api_key, methods=["POST"]),
            Route("/webhooks/stripe", stripe_webhook, methods=["POST"]),
            Route("/webhooks/hyperswitch", hyperswitch_webhook, methods=["POST"]),
            Route("/payments/callback/{provider}", payment_callback, methods=["GET"]),
            Route("/invoices/{invoice_id}/pdf", invoice_pdf_download, methods=["GET"]),
            Route("/dns/zones/{zone_id}/export", dns_zone_export, methods=["GET"]),
            Route("/streams/ingest/publish", ingest_publish, methods=["POST"]),
            Route("/streams/ingest/publish-done", ingest_publish_done, methods=["POST"]),
            Route("/privacy/exports/{export_id}", data_export_download, methods=["GET"]),
            Route("/users/me/avatar", avatar_upload, methods=["POST"]),
            Route("/avatars/library/{avatar_id}.svg", library_avatar, methods=["GET"]),
            Route("/avatars/{tenant_id}/{avatar_id}", uploaded_avatar, methods=["GET"]),
            *oauth_routes(settings),
        ],
        middleware=middleware,
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    return app
