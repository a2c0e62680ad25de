"""OpenTelemetry tracing, off unless TENANTGRAPH_TRACING=otlp: then spans of each HTTP request and
websocket connection (ASGI), of each GraphQL operation with its parsing, validation and resolvers
(strawberry), and of each SQL statement, exported over OTLP/HTTP. The standard OTEL_* variables
configure it (OTEL_EXPORTER_OTLP_ENDPOINT or ..._TRACES_ENDPOINT, ..._HEADERS, OTEL_SERVICE_NAME,
OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER, OTEL_BSP_*, OTEL_PYTHON_ASGI_EXCLUDED_URLS).

When off nothing here is installed: no middleware, extension or SQL listener costs a request."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind, TraceState
from opentelemetry.util.http import parse_excluded_urls
from opentelemetry.util.types import Attributes
from starlette.middleware import Middleware
from strawberry.extensions import SchemaExtension
from strawberry.extensions.tracing import OpenTelemetryExtension

from core.settings import Settings
from models.db import Database

# Probes and scrapes are polled every few seconds: no traces of them unless asked for.
DEFAULT_EXCLUDED_URLS = "/health,/readyz,/metrics"
SQLALCHEMY_INSTRUMENTATION = "opentelemetry.instrumentation.sqlalchemy"


def _resource() -> Resource:
    resource = Resource.create()  # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: "tenantgraph"}))
    return resource


def _excluded_urls() -> str:
    generic = os.environ.get("OTEL_PYTHON_EXCLUDED_URLS", DEFAULT_EXCLUDED_URLS)
    return os.environ.get("OTEL_PYTHON_ASGI_EXCLUDED_URLS", generic)


class InRequestsOnly(Sampler):
    """Drops a SQL statement's span that has no parent: the background workers poll every second
    or so, and each poll would be a trace of its own. Everything else as ``configured`` decides
    (OTEL_TRACES_SAMPLER)."""

    def __init__(self, configured: Sampler) -> None:
        self.configured = configured

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        if kind is SpanKind.CLIENT and not trace.get_current_span(parent_context).get_span_context().is_valid:
            return SamplingResult(Decision.DROP)
        return self.configured.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"InRequestsOnly{{{self.configured.get_description()}}}"


class Tracing:
    """One app's tracer provider and what it installs; its own provider (not the global one), so
    that each app of a process traces on its own."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider

    @classmethod
    def create(cls, settings: Settings) -> Tracing | None:
        if settings.tracing != "otlp":
            return None
        provider = TracerProvider(resource=_resource())
        provider.sampler = InRequestsOnly(provider.sampler)  # before any tracer takes it
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        return cls(provider)

    def middleware(self) -> Middleware:
        return Middleware(
            OpenTelemetryMiddleware,
            tracer_provider=self.provider,
            excluded_urls=parse_excluded_urls(_excluded_urls()),
            # One span per request or connection, not one per ASGI message besides.
            exclude_spans=["receive", "send"],
        )

    def extension(self) -> Callable[[], SchemaExtension]:
        return lambda: OpenTelemetryExtension(tracer_provider=self.provider)

    def instrument(self, db: Database) -> None:
        """Spans for the SQL statements of ``db`` only (SQLAlchemyInstrumentor would patch every
        engine the process creates, once per process)."""
        tracer = trace.get_tracer(SQLALCHEMY_INSTRUMENTATION, tracer_provider=self.provider)
        connections = (
            NoOpMeterProvider()
            .get_meter(SQLALCHEMY_INSTRUMENTATION)
            .create_up_down_counter("db.client.connections.usage")
        )
        EngineTracer(tracer, db.engine.sync_engine, connections)

    def shutdown(self) -> None:
        """Sends the spans still buffered."""
        self.provider.shutdown()
