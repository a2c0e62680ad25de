"""Liveness and readiness probes."""

from __future__ import annotations

from sqlalchemy import literal, select
from starlette.requests import Request
from starlette.responses import JSONResponse

from core.scope import TenantScope
from realtime.redis_backend import RedisBackend
from server.runtime import Runtime


async def health(request: Request) -> JSONResponse:
    """The process is up and serving; says nothing of its dependencies."""
    return JSONResponse({"status": "ok"})


async def readiness(request: Request) -> JSONResponse:
    """Ready for traffic when the database answers and the broadcast listener is connected."""
    runtime: Runtime = request.app.state.runtime
    checks: dict[str, str] = {}
    try:
        async with runtime.db.session(TenantScope.all_tenants()) as session:
            await session.execute(select(literal(1)))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; say which
        checks["database"] = f"down: {type(exc).__name__}"
    backend = runtime.broadcast.backend
    if isinstance(backend, RedisBackend):
        state = backend.state
        checks["broadcast"] = "ok" if state == "connected" else f"{state}: {backend.last_error or '-'}"
    else:
        checks["broadcast"] = "ok"
    checks["outboxDispatcher"] = "ok" if runtime.dispatcher.running else "stopped"
    ready = all(value == "ok" for value in checks.values())
    down = sorted(name for name, value in checks.items() if value != "ok")
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks, "down": down},
        status_code=200 if ready else 503,
    )
