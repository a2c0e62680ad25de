"""The checks behind /readyz and /health/deep: each dependency is ok, degraded (the server serves,
but something waits: mail, events, Redis, disk) or down (it cannot serve: not ready)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sqlalchemy import literal, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from core.scope import TenantScope
from core.settings import Settings
from realtime.redis_backend import RedisBackend
from server.runtime import Runtime
from services.backlogs import Backlog, mail_backlog, outbox_backlog

Status = Literal["ok", "degraded", "down", "unknown"]
MEGABYTE = 1024 * 1024
ALL_TENANTS = TenantScope.all_tenants()


@dataclass(frozen=True, slots=True)
class Check:
    status: Status
    detail: str | None = None  # why it is not ok, for a person
    data: dict[str, object] = field(default_factory=dict)

    def line(self) -> str:
        return self.status if self.detail is None else f"{self.status}: {self.detail}"

    def as_json(self) -> dict[str, object]:
        return {"status": self.status, **({"detail": self.detail} if self.detail else {}), **self.data}


OK = Check("ok")


def _failed(exc: Exception) -> str:
    return type(exc).__name__


async def _read(runtime: Runtime, query: Callable[[AsyncSession], Awaitable[Backlog]]) -> Backlog:
    async with runtime.db.session(ALL_TENANTS) as session:
        return await query(session)


async def _database(runtime: Runtime) -> Check:
    try:
        async with runtime.db.session(ALL_TENANTS) as session:
            await session.execute(select(literal(1)))
    except Exception as exc:  # any failure means not ready; say which
        return Check("down", _failed(exc))
    return OK


async def _migrations(runtime: Runtime) -> Check:
    try:
        pending = await runtime.migrations.state()
    except Exception as exc:  # e.g. the database went away since the first check
        return Check("down", _failed(exc))
    return OK if pending is None else Check("down", pending.describe())


def _broadcast(runtime: Runtime) -> Check:
    backend = runtime.broadcast.backend
    if not isinstance(backend, RedisBackend) or backend.state == "connected":
        return OK
    detail = f"{backend.state}: {backend.last_error or '-'}"
    # Reconnecting, requests are still served (events wait in the outbox); never connected, not.
    return Check("degraded" if backend.state == "reconnecting" else "down", detail)


async def _backlog_check(
    runtime: Runtime,
    query: Callable[[AsyncSession], Awaitable[Backlog]],
    limit_seconds: float,
    what: str,
    active: bool = True,
) -> Check:
    try:
        backlog = await _read(runtime, query)
    except Exception as exc:
        return Check("unknown", _failed(exc))
    data: dict[str, object] = {
        "waiting": backlog.count,
        "waitingCapped": backlog.capped,
        "oldestSeconds": round(backlog.oldest_age_seconds, 1),
    }
    if active and backlog.oldest_age_seconds > limit_seconds:
        detail = f"{what} waiting for {backlog.oldest_age_seconds:.0f} s (over {limit_seconds:g} s)"
        return Check("degraded", detail, data)
    return Check("ok", None, data)


def disk_path(settings: Settings) -> Path:
    """Where the server writes: an SQLite file's folder, else the working directory."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database).resolve().parent
    return Path.cwd()


def _disk(settings: Settings) -> Check:
    try:
        usage = shutil.disk_usage(disk_path(settings))
    except OSError as exc:
        return Check("unknown", _failed(exc))
    free_mb = usage.free // MEGABYTE
    data: dict[str, object] = {"freeMb": free_mb, "usedPercent": round(100 * usage.used / usage.total, 1)}
    if free_mb < settings.health_min_free_disk_mb:
        return Check("degraded", f"{free_mb} MB free (under {settings.health_min_free_disk_mb} MB)", data)
    return Check("ok", None, data)


async def run_checks(runtime: Runtime) -> dict[str, Check]:
    settings = runtime.settings
    checks = {"database": await _database(runtime)}
    if checks["database"].status == "ok":
        checks["migrations"] = await _migrations(runtime)
    else:
        checks["migrations"] = Check("unknown", "database down")
    checks["broadcast"] = _broadcast(runtime)
    checks["outboxDispatcher"] = OK if runtime.dispatcher.running else Check("down", "stopped")
    if checks["migrations"].status == "ok":
        outbox, mail = await asyncio.gather(
            _backlog_check(runtime, outbox_backlog, settings.health_outbox_lag_seconds, "events"),
            # Without SMTP mail stays queued on purpose (the embedded run reads it in the table).
            _backlog_check(
                runtime,
                mail_backlog,
                settings.health_mail_backlog_seconds,
                "mail",
                active=runtime.mail_sender is not None,
            ),
        )
        checks["outbox"], checks["mail"] = outbox, mail
    else:
        checks["outbox"] = checks["mail"] = Check("unknown", "database not ready")
    checks["disk"] = _disk(settings)
    return checks


def names_with(checks: dict[str, Check], status: Status) -> list[str]:
    return sorted(name for name, check in checks.items() if check.status == status)


def config_summary(settings: Settings) -> dict[str, object]:
    """What this process runs with, for an operator: kinds and switches, never a secret or a URL
    (URLs carry passwords)."""
    defaults = Settings.model_fields
    return {
        "production": settings.production,
        "database": make_url(settings.database_url).get_backend_name(),
        "broadcast": "redis" if settings.broadcast_url.startswith(("redis://", "rediss://")) else "memory",
        "rateLimiter": "redis" if settings.rate_limit_redis_url else "memory",
        "mail": "smtp" if settings.smtp_url else "queued only (no SMTP)",
        "paymentProvider": "remote" if settings.payment_provider_url else "in-process fake",
        "jwtAlgorithm": settings.jwt_algorithm,
        "jwtSigningKeyIsDevelopmentDefault": settings.jwt_signing_key == defaults["jwt_signing_key"].default,
        "webhookSecretsAreDevelopmentDefaults": any(
            getattr(settings, name) == defaults[name].default
            for name in ("stripe_webhook_secret", "hyperswitch_webhook_key")
        ),
        "graphiql": settings.graphiql_enabled,
        "allowedOrigins": len(settings.allowed_origins),
        "logLevel": settings.log_level.upper(),
    }
