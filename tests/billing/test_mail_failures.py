"""Mail that keeps failing ends FAILED: a real local SMTP server (aiosmtpd) answering 4xx, or one
that drops every connection; attempts are bounded, spaced by a doubling backoff, and the last
error is kept; staff see FAILED messages in mailMessages (status filter)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import update
from starlette.applications import Starlette

from core.permissions import Role
from core.scope import TenantScope
from core.settings import Settings
from models.base import utcnow
from models.billing import MailMessage, MailStatus
from server.app import create_app
from server.runtime import Runtime
from services.billing.mail import SmtpMailer, deliver_pending, retry_delay
from services.mail_queue import queue_mail
from tests.billing.support import rows, wait_until
from tests.conftest import make_settings
from tests.harness.servers import HOST, PostgresServer, RedisServer, free_port
from tests.support.graphql import GraphQLClient
from tests.support.identity import Account, quick_account

SENDER = "billing@tenantgraph.example"
MAIL = """
query($status: MailStatus) {
  mailMessages(first: 10, status: $status) {
    totalCount nodes { to subject status attempts lastError nextAttemptAt sentAt }
  }
}
"""


class Answering:
    """An aiosmtpd handler answering DATA with ``reply`` (250 keeps the message)."""

    def __init__(self, reply: str = "250 Message accepted", rcpt_reply: str | None = None) -> None:
        self.reply = reply
        self.rcpt_reply = rcpt_reply
        self.received: list[Any] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reply.startswith("250"):
            self.received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return self.reply


class Smtp:
    def __init__(self, handler: Answering) -> None:
        self.port = free_port()
        self.handler = handler
        self.controller = Controller(handler, hostname=HOST, port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://{HOST}:{self.port}"


@pytest.fixture
def smtp_4xx() -> Iterator[Smtp]:
    server = Smtp(Answering("451 4.3.0 Mailbox busy, try again later"))
    server.controller.start()
    yield server
    server.controller.stop()


@pytest.fixture
async def dropping() -> AsyncIterator[str]:
    """An SMTP URL whose server accepts each connection and closes it at once."""

    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(drop, HOST, 0)
    port = server.sockets[0].getsockname()[1]
    yield f"smtp://{HOST}:{port}"
    server.close()
    await server.wait_closed()


async def queue(runtime: Runtime, owner: Account, subject: str) -> uuid.UUID:
    async with runtime.db.transaction(TenantScope.of(owner.tenant_id)) as session:
        message = queue_mail(
            session, tenant_id=owner.tenant_id, to="ada@acme.example", subject=subject, body="Hello."
        )
        return message.id


async def make_due(runtime: Runtime) -> None:
    """Time passes: every waiting message is due again (the data, not the code, changes)."""
    async with runtime.db.transaction(TenantScope.all_tenants()) as session:
        await session.execute(
            update(MailMessage)
            .where(MailMessage.next_attempt_at.is_not(None))
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )


async def stored(runtime: Runtime, message_id: uuid.UUID) -> MailMessage:
    (message,) = await rows(runtime, MailMessage, MailMessage.id == message_id)
    return message


def test_the_backoff_doubles_up_to_an_hour() -> None:
    assert [retry_delay(n, 60).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert retry_delay(20, 60) == timedelta(hours=1)
    assert retry_delay(3, 0) == timedelta(0)


async def test_a_4xx_answer_is_retried_after_a_backoff_then_fails_with_its_last_error(
    runtime: Runtime, smtp_4xx: Smtp
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    message_id = await queue(runtime, admin, "Invoice 1")
    mailer = SmtpMailer(smtp_4xx.url, timeout=2)

    before = utcnow()
    report = await deliver_pending(runtime.db, mailer, SENDER, max_attempts=3, retry_seconds=60)
    assert (report.sent, report.retrying, report.failed, report.stopped) == (0, 1, 0, True)
    first = await stored(runtime, message_id)
    assert (first.status, first.attempts) == (MailStatus.QUEUED, 1)
    assert first.last_error == "SMTP 451: 4.3.0 Mailbox busy, try again later"
    assert first.next_attempt_at is not None
    assert timedelta(seconds=59) < first.next_attempt_at - before < timedelta(seconds=70)

    # Not due yet: the next round leaves it alone.
    idle = await deliver_pending(runtime.db, mailer, SENDER, max_attempts=3, retry_seconds=60)
    assert (idle.sent, idle.retrying, idle.failed) == (0, 0, 0)
    assert (await stored(runtime, message_id)).attempts == 1

    await make_due(runtime)
    before = utcnow()
    await deliver_pending(runtime.db, mailer, SENDER, max_attempts=3, retry_seconds=60)
    second = await stored(runtime, message_id)
    assert (second.status, second.attempts) == (MailStatus.QUEUED, 2)
    assert second.next_attempt_at is not None
    assert timedelta(seconds=119) < second.next_attempt_at - before < timedelta(seconds=130)

    await make_due(runtime)
    last = await deliver_pending(runtime.db, mailer, SENDER, max_attempts=3, retry_seconds=60)
    assert (last.sent, last.retrying, last.failed) == (0, 0, 1)
    failed = await stored(runtime, message_id)
    assert (failed.status, failed.attempts, failed.next_attempt_at) == (MailStatus.FAILED, 3, None)
    assert failed.last_error == "SMTP 451: 4.3.0 Mailbox busy, try again later"
    assert failed.sent_at is None and smtp_4xx.handler.received == []
    # Nothing is tried again.
    await make_due(runtime)
    assert (await deliver_pending(runtime.db, mailer, SENDER, max_attempts=3)).failed == 0
    assert (await stored(runtime, message_id)).attempts == 3


async def test_a_dropped_connection_counts_until_the_bound_and_the_rest_wait_their_turn(
    runtime: Runtime, dropping: str
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    first = await queue(runtime, admin, "First")
    second = await queue(runtime, admin, "Second")
    mailer = SmtpMailer(dropping, timeout=2)

    # Each round stops at the first failure: the second message waits.
    for attempt in (1, 2):
        report = await deliver_pending(runtime.db, mailer, SENDER, max_attempts=2, retry_seconds=0)
        assert report.stopped and report.sent == 0
        assert [
            (m.attempts, m.status) for m in (await stored(runtime, first), await stored(runtime, second))
        ] == [
            (attempt, MailStatus.QUEUED if attempt == 1 else MailStatus.FAILED),
            (0, MailStatus.QUEUED),
        ]
    dropped = await stored(runtime, first)
    assert dropped.last_error is not None and "SMTPServerDisconnected" in dropped.last_error
    for _ in range(2):
        await deliver_pending(runtime.db, mailer, SENDER, max_attempts=2, retry_seconds=0)
    assert [
        (m.subject, m.status, m.attempts)
        for m in await rows(runtime, MailMessage, order_by=MailMessage.created_at)
    ] == [
        ("First", MailStatus.FAILED, 2),
        ("Second", MailStatus.FAILED, 2),
    ]


async def test_a_permanent_refusal_fails_at_once_and_the_round_goes_on(runtime: Runtime) -> None:
    handler = Answering(rcpt_reply="550 5.1.1 No such user")
    server = Smtp(handler)
    server.controller.start()
    try:
        admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
        first = await queue(runtime, admin, "First")
        await queue(runtime, admin, "Second")
        report = await deliver_pending(runtime.db, SmtpMailer(server.url, timeout=2), SENDER, max_attempts=5)
    finally:
        server.controller.stop()
    assert (report.failed, report.stopped) == (2, False)
    refused = await stored(runtime, first)
    assert (refused.status, refused.attempts, refused.next_attempt_at) == (MailStatus.FAILED, 1, None)
    assert refused.last_error is not None and "recipient refused" in refused.last_error


async def test_staff_see_failed_mail_with_attempts_and_last_error(
    runtime: Runtime, gql: GraphQLClient, smtp_4xx: Smtp
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    buyer = await quick_account(runtime, "acme")
    failing = await queue(runtime, admin, "Will fail")
    mailer = SmtpMailer(smtp_4xx.url, timeout=2)
    await deliver_pending(runtime.db, mailer, SENDER, max_attempts=1)
    await queue(runtime, admin, "Still queued")

    everything = (await gql(MAIL, token=admin.token)).ok()["mailMessages"]
    assert everything["totalCount"] == 2
    failed = (await gql(MAIL, {"status": "FAILED"}, token=admin.token)).ok()["mailMessages"]
    assert failed["totalCount"] == 1
    (node,) = failed["nodes"]
    assert (node["subject"], node["status"], node["attempts"], node["nextAttemptAt"], node["sentAt"]) == (
        "Will fail",
        "FAILED",
        1,
        None,
        None,
    )
    assert node["lastError"] == "SMTP 451: 4.3.0 Mailbox busy, try again later"
    queued = (await gql(MAIL, {"status": "QUEUED"}, token=admin.token)).ok()["mailMessages"]
    assert [n["subject"] for n in queued["nodes"]] == ["Still queued"]
    assert (await gql(MAIL, {"status": "FAILED"}, token=buyer.token)).error_codes == ["FORBIDDEN"]
    other = await quick_account(runtime, "globex", Role.TENANT_ADMIN)
    assert (await gql(MAIL, {"status": "FAILED"}, token=other.token)).ok()["mailMessages"]["totalCount"] == 0
    assert (await stored(runtime, failing)).status == MailStatus.FAILED


@pytest.fixture
async def failing_app(
    app: Starlette, settings: Settings, postgres: PostgresServer, redis_server: RedisServer, smtp_4xx: Smtp
) -> AsyncIterator[Starlette]:
    application = create_app(
        make_settings(
            postgres.url,
            redis_server.url,
            smtp_url=smtp_4xx.url,
            mail_poll_seconds=0.1,
            mail_max_attempts=3,
            mail_retry_seconds=0.2,
            billing_jobs_seconds=0,
        )
    )
    async with application.router.lifespan_context(application):
        yield application


async def test_the_runtime_s_sender_gives_up_after_the_configured_attempts(
    runtime: Runtime, failing_app: Starlette, smtp_4xx: Smtp
) -> None:
    transport = httpx.ASGITransport(app=failing_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mail"):
        admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
        message_id = await queue(runtime, admin, "Never delivered")
        assert failing_app.state.runtime.mail_sender.running

        async def failed() -> bool:
            return (await stored(runtime, message_id)).status == MailStatus.FAILED

        await wait_until(failed, seconds=20)
        message = await stored(runtime, message_id)
        assert message.attempts == 3 and message.last_error is not None and "451" in message.last_error
        assert smtp_4xx.handler.received == []
