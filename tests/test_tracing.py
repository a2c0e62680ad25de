"""OpenTelemetry tracing (server/tracing.py) against a local fake OTLP/HTTP collector: spans of the
request, the GraphQL operation and its resolvers, and the SQL statements, in one trace; nothing
at all when tracing is off."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from core.settings import Settings
from tests.conftest import own_app
from tests.support.graphql import GraphQLClient
from tests.support.identity import Identity


class Collector:
    """An OTLP/HTTP trace receiver on 127.0.0.1: keeps every span posted to /v1/traces, with the
    service.name of its resource."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, Span]] = []
        self.paths: list[str] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                collector.receive(self.path, body)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def receive(self, path: str, body: bytes) -> None:
        self.paths.append(path)
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        for resource_spans in request.resource_spans:
            service = attributes(resource_spans.resource.attributes)["service.name"]
            for scope_spans in resource_spans.scope_spans:
                self.spans.extend((service, span) for span in scope_spans.spans)

    def named(self, name: str) -> list[Span]:
        return [span for _, span in self.spans if span.name == name]


def attributes(values: Any) -> dict[str, Any]:
    pairs: list[KeyValue] = list(values)
    return {pair.key: getattr(pair.value, str(pair.value.WhichOneof("value"))) for pair in pairs}


@pytest.fixture
def collector(monkeypatch: pytest.MonkeyPatch) -> Iterator[Collector]:
    receiver = Collector()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url)
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


async def test_a_request_is_one_trace_of_request_operation_resolvers_and_sql(
    settings: Settings, identity: Identity, collector: Collector
) -> None:
    account = await identity.account("acme")
    async with own_app(settings.database_url, tracing="otlp") as (_, http):
        me = await GraphQLClient(http)("query MyEmail { me { email } }", token=account.token)
        assert me.ok() == {"me": {"email": account.email}}
        assert (await http.get("/health")).status_code == 200
    assert collector.paths and set(collector.paths) == {"/v1/traces"}
    assert {service for service, _ in collector.spans} == {"tenantgraph"}

    [request] = collector.named("POST /graphql")
    assert request.kind == Span.SPAN_KIND_SERVER
    assert attributes(request.attributes)["http.status_code"] == 200
    [operation] = collector.named("GraphQL Query: MyEmail")
    assert operation.parent_span_id == request.span_id
    assert attributes(operation.attributes)["query"] == "query MyEmail { me { email } }"
    [resolver] = collector.named("GraphQL Resolving: me")
    assert resolver.parent_span_id == operation.span_id
    assert attributes(resolver.attributes)["graphql.path"] == "me"
    sql = [span for _, span in collector.spans if "db.statement" in attributes(span.attributes)]
    statements = [attributes(span.attributes)["db.statement"] for span in sql]
    assert any("FROM users" in statement for statement in statements), statements
    assert {span.trace_id for span in sql} == {request.trace_id}, statements
    # Probes are not traced.
    assert not [span for _, span in collector.spans if "/health" in span.name]


async def test_tracing_is_off_by_default(settings: Settings, collector: Collector) -> None:
    async with own_app(settings.database_url) as (app, http):
        assert (await GraphQLClient(http)("query Ping { __typename }")).ok() == {"__typename": "Query"}
        assert not [m for m in app.user_middleware if "OpenTelemetryMiddleware" in str(m.cls)]
    assert collector.spans == [] and collector.paths == []
