"""Maintenance mode on the REST shims: while it is on (services/platform/maintenance.py) every
HTTP route but GraphQL (refused per operation by subgraph/maintenance.py), the probes, the JWKS
and the landing page answers 503 problem+json with the mode's message."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from server.problems import problem
from services.platform.maintenance import MaintenanceGate

EXEMPT = frozenset({"/", "/graphql", "/health", "/healthz", "/readyz", "/metrics", "/health/deep"})
EXEMPT_PREFIXES = ("/.well-known/", "/static/")


class MaintenanceMiddleware:
    def __init__(self, app: ASGIApp, gate: MaintenanceGate) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path not in EXEMPT and not path.startswith(EXEMPT_PREFIXES):
            status = await self.gate.current()
            if status.enabled:
                response = problem(503, "Service Unavailable", status.message)
                response.headers["Retry-After"] = "60"
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
