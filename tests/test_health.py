"""The probes: /health and /healthz (liveness), /readyz (ready, degraded, not_ready) and
/health/deep (each dependency with its numbers, a configuration summary without secrets)."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from starlette.applications import Starlette

from core.scope import TenantScope
from core.settings import Settings
from models.base import utcnow
from models.billing import MailMessage, MailStatus
from models.events import OutboxEvent
from models.identity.accounts import TenantKind
from server.app import create_app
from server.cli import migrate
from server.migration_state import script_heads
from server.runtime import Runtime
from services.identity.bootstrap import ensure_tenant
from tests.conftest import TEST_SIGNING_KEY, app_client, make_settings, root_logging_kept
from tests.harness.servers import PostgresServer, free_port

ALL_CHECKS = ["database", "migrations", "broadcast", "outboxDispatcher", "outbox", "mail", "disk"]
HEAD = ", ".join(sorted(script_heads()))
PENDING = f"migrations pending (database at revision none, code at {HEAD}): run `tenantgraph migrate` first"


@asynccontextmanager
async def own_app(database_url: str, **overrides: object) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    """A client of an app of its own (memory broadcast) and its runtime, running for the block."""
    with root_logging_kept():
        application: Starlette = create_app(make_settings(database_url, "memory://", **overrides))
        async with application.router.lifespan_context(application), app_client(application) as client:
            yield client, application.state.runtime


async def migrated_database(postgres: PostgresServer, name: str) -> str:
    url = postgres.create_database(name)
    await asyncio.to_thread(migrate, make_settings(url, "memory://"))  # alembic runs its own loop
    return url


async def test_liveness_on_both_paths(http: httpx.AsyncClient) -> None:
    for path in ("/health", "/healthz"):
        response = await http.get(path)
        assert (response.status_code, response.json()) == (200, {"status": "ok"}), path


async def test_ready_when_everything_is_up(http: httpx.AsyncClient) -> None:
    response = await http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": dict.fromkeys(ALL_CHECKS, "ok"),
        "down": [],
        "degraded": [],
    }


async def test_deep_health_reports_every_dependency_and_no_secret(
    http: httpx.AsyncClient, settings: Settings
) -> None:
    response = await http.get("/health/deep")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["version"] == "0.1.0"
    checks = body["checks"]
    assert list(checks) == ALL_CHECKS
    assert {name: check["status"] for name, check in checks.items()} == dict.fromkeys(ALL_CHECKS, "ok")
    assert checks["outbox"] == {"status": "ok", "waiting": 0, "waitingCapped": False, "oldestSeconds": 0.0}
    assert checks["mail"] == {"status": "ok", "waiting": 0, "waitingCapped": False, "oldestSeconds": 0.0}
    assert checks["disk"]["freeMb"] > 0 and 0 < checks["disk"]["usedPercent"] < 100
    assert body["config"] == {
        "production": False,
        "database": "postgresql",
        "broadcast": "redis",
        "rateLimiter": "redis",
        "mail": "queued only (no SMTP)",
        "paymentProvider": "in-process fake",
        "jwtAlgorithm": "HS256",
        "jwtSigningKeyIsDevelopmentDefault": False,
        "webhookSecretsAreDevelopmentDefaults": True,
        "graphiql": True,
        "allowedOrigins": 0,
        "logLevel": "INFO",
    }
    text = response.text
    for secret in (
        TEST_SIGNING_KEY,
        settings.stripe_webhook_secret,
        settings.hyperswitch_webhook_key,
        settings.payment_provider_secret_key,
        settings.database_url,
        settings.broadcast_url,
    ):
        assert secret not in text


async def test_not_ready_naming_migrations_pending_until_migrated(
    postgres: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = postgres.create_database("health_unmigrated")
    with root_logging_kept():
        application = create_app(make_settings(url, "memory://"))
        logging.getLogger().addHandler(caplog.handler)  # create_app reconfigured the root logger
        async with application.router.lifespan_context(application), app_client(application) as client:
            ready = await client.get("/readyz")
            deep = await client.get("/health/deep")
            # Migrated while it runs: the next probe sees it, no restart needed.
            await asyncio.to_thread(migrate, make_settings(url, "memory://"))
            after = await client.get("/readyz")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings.count(f"{PENDING}; /readyz answers 503 until then") == 1, warnings

    assert ready.status_code == 503
    assert ready.json() == {
        "status": "not_ready",
        "checks": {
            "database": "ok",
            "migrations": f"down: {PENDING}",
            "broadcast": "ok",
            "outboxDispatcher": "ok",
            "outbox": "unknown: database not ready",
            "mail": "unknown: database not ready",
            "disk": "ok",
        },
        "down": ["migrations"],
        "degraded": [],
    }
    assert deep.status_code == 503
    assert deep.json()["status"] == "unhealthy"
    assert deep.json()["checks"]["migrations"] == {"status": "down", "detail": PENDING}
    assert after.status_code == 200 and after.json()["status"] == "ready", after.text


async def test_not_ready_without_a_database(restore_logging: None) -> None:
    # Starting does not need the database: the outbox dispatcher retries until it is there.
    async with own_app(f"postgresql+asyncpg://tenantgraph@127.0.0.1:{free_port()}/x") as (client, _):
        health = await client.get("/health")
        ready = await client.get("/readyz")
        deep = await client.get("/health/deep")
    assert health.json() == {"status": "ok"}
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "not_ready"
    assert body["down"] == ["database"]
    assert body["checks"]["database"].startswith("down: ")
    assert body["checks"]["migrations"] == "unknown: database down"
    assert body["checks"]["broadcast"] == "ok"
    assert (deep.status_code, deep.json()["status"]) == (503, "unhealthy")


async def _first_round_done(runtime: Runtime) -> None:
    """The dispatcher's first round (at start) is over: the next is an hour away."""
    for _ in range(200):
        if runtime.dispatcher._last_pruned is not None:  # set at the end of a round
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the outbox dispatcher ran no round in 10 s")


def _old_event(age: timedelta) -> OutboxEvent:
    return OutboxEvent(topic="test.event", payload={}, created_at=utcnow() - age)


async def test_degraded_while_events_wait_in_the_outbox(postgres: PostgresServer) -> None:
    url = await migrated_database(postgres, "health_outbox")
    # A dispatcher that polls once an hour: an event nobody wakes it for waits.
    async with own_app(url, outbox_poll_seconds=3600, health_outbox_lag_seconds=30) as (client, runtime):
        await _first_round_done(runtime)
        async with runtime.db.transaction(TenantScope.all_tenants()) as session:
            # In recording order (seq): the first waits longest.
            session.add_all([_old_event(timedelta(seconds=90)), _old_event(timedelta(seconds=5))])
        ready = await client.get("/readyz")
        deep = await client.get("/health/deep")
    assert ready.status_code == 200
    body = ready.json()
    assert (body["status"], body["down"], body["degraded"]) == ("degraded", [], ["outbox"])
    assert body["checks"]["outbox"].startswith("degraded: events waiting for 9")
    assert body["checks"]["outbox"].endswith("s (over 30 s)")
    outbox = deep.json()["checks"]["outbox"]
    assert (deep.status_code, deep.json()["status"]) == (200, "degraded")
    assert (outbox["status"], outbox["waiting"], outbox["waitingCapped"]) == ("degraded", 2, False)
    assert 90 <= outbox["oldestSeconds"] < 120


async def _queue_old_mail(runtime: Runtime) -> None:
    async with runtime.db.transaction(TenantScope.all_tenants()) as session:
        tenant = await ensure_tenant(session, "acme", "Acme", TenantKind.ENTERPRISE)
        session.add(
            MailMessage(
                id=uuid.uuid4(),
                tenant_id=tenant.id,
                to_address="someone@acme.example",
                subject="Invoice",
                body_text="...",
                attachments={},
                status=MailStatus.QUEUED,
                attempts=0,
                created_at=utcnow() - timedelta(hours=1),
            )
        )


@pytest.mark.parametrize(("smtp", "expected"), [(True, "degraded"), (False, "ready")])
async def test_queued_mail_degrades_only_when_mail_is_sent(
    postgres: PostgresServer, smtp: bool, expected: str
) -> None:
    url = await migrated_database(postgres, f"health_mail_{smtp}".lower())
    # An SMTP server nobody listens on, tried once an hour: queued mail waits.
    overrides: dict[str, object] = (
        {"smtp_url": f"smtp://127.0.0.1:{free_port()}", "mail_poll_seconds": 3600} if smtp else {}
    )
    async with own_app(url, health_mail_backlog_seconds=600, **overrides) as (client, runtime):
        await _queue_old_mail(runtime)
        ready = await client.get("/readyz")
        deep = await client.get("/health/deep")
    assert ready.status_code == 200
    assert ready.json()["status"] == expected
    mail = deep.json()["checks"]["mail"]
    assert (mail["waiting"], mail["status"]) == (1, "degraded" if smtp else "ok")
    assert 3600 <= mail["oldestSeconds"] < 3700
    if smtp:
        assert ready.json()["checks"]["mail"].startswith("degraded: mail waiting for 36")
        assert deep.json()["config"]["mail"] == "smtp"
        assert "127.0.0.1" not in json.dumps(deep.json()["config"])


async def test_degraded_when_the_disk_is_short(postgres: PostgresServer) -> None:
    url = await migrated_database(postgres, "health_disk")
    async with own_app(url, health_min_free_disk_mb=10**12) as (client, _):
        ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert (ready.json()["status"], ready.json()["degraded"]) == ("degraded", ["disk"])
    assert ready.json()["checks"]["disk"].endswith("MB free (under 1000000000000 MB)")
