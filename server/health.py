"""Probes: liveness (/health, /healthz), readiness (/readyz) and the deep check (/health/deep).

Readiness is ``ready`` (200), ``degraded`` (200: serving, but mail, events, Redis or disk are
behind) or ``not_ready`` (503: the database is away or not migrated, or the outbox dispatcher
stopped); /health/deep reports the same checks with their numbers and a configuration summary."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from models.base import utcnow
from server.health_checks import Check, config_summary, names_with, run_checks
from server.landing import VERSION
from server.runtime import Runtime


async def health(request: Request) -> JSONResponse:
    """The process is up and serving; says nothing of its dependencies."""
    return JSONResponse({"status": "ok"})


async def _checked(runtime: Runtime) -> tuple[dict[str, Check], list[str], list[str]]:
    """Every check, and the names of those down and of those degraded."""
    checks = await run_checks(runtime)
    return checks, names_with(checks, "down"), names_with(checks, "degraded")


async def readiness(request: Request) -> JSONResponse:
    checks, down, degraded = await _checked(request.app.state.runtime)
    return JSONResponse(
        {
            "status": "not_ready" if down else "degraded" if degraded else "ready",
            "checks": {name: check.line() for name, check in checks.items()},
            "down": down,
            "degraded": degraded,
        },
        status_code=503 if down else 200,
    )


async def deep_health(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    checks, down, degraded = await _checked(runtime)
    return JSONResponse(
        {
            "status": "unhealthy" if down else "degraded" if degraded else "healthy",
            "timestamp": utcnow().isoformat(),
            "version": VERSION,
            "checks": {name: check.as_json() for name, check in checks.items()},
            "config": config_summary(runtime.settings),
        },
        status_code=503 if down else 200,
    )
