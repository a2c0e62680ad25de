"""Sending invoices: the mail is queued in the same transaction as the invoice's sentAt, and
delivered by SMTP (a real aiosmtpd server here) with the PDF attached; while the SMTP server is
down messages wait QUEUED with their attempts counted, and go out once it is back."""

from __future__ import annotations

import email
import email.policy
import io
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from pypdf import PdfReader
from starlette.applications import Starlette

from core.permissions import Role
from core.settings import Settings
from models.billing import Invoice, MailMessage, MailStatus
from models.events import OutboxEvent
from server.app import create_app
from server.runtime import Runtime
from services.billing.mail import SmtpMailer, deliver_pending
from tests.billing.support import invoice_for, make_order, raw_id, rows, wait_until
from tests.conftest import make_settings
from tests.harness.servers import HOST, PostgresServer, RedisServer, free_port
from tests.support.graphql import GraphQLClient
from tests.support.identity import quick_account

SEND = """
mutation($input: SendInvoiceInput!) {
  sendInvoice(input: $input) {
    invoice { id sentAt }
    mailMessage { id to subject status attempts attachments }
    userErrors { field code message }
  }
}
"""
MAIL = "query { mailMessages(first: 10) { totalCount nodes { to subject status attempts bodyText } } }"
SENDER = "billing@tenantgraph.example"


class Inbox:
    """An aiosmtpd handler keeping what it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted"


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://{HOST}:{self.port}"

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname=HOST, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    yield server
    server.stop()


def attachment(message: EmailMessage) -> tuple[str | None, str, bytes]:
    (part,) = list(message.iter_attachments())
    return part.get_filename(), part.get_content_type(), part.get_content()


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


async def test_send_invoice_queues_the_mail_with_the_invoice_in_one_transaction(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    buyer = await quick_account(runtime, "acme", email="ada@acme.example", full_name="Ada")
    invoice = await invoice_for(gql, admin, await make_order(runtime, buyer, [("A", "Widget", 2500, 2)]))
    draft = await invoice_for(gql, admin, await make_order(runtime, buyer), issue=False)

    assert (await gql(SEND, {"input": {"id": invoice["id"]}}, token=buyer.token)).error_codes == ["FORBIDDEN"]
    refused = (await gql(SEND, {"input": {"id": draft["id"]}}, token=admin.token)).ok()["sendInvoice"]
    assert [e["code"] for e in refused["userErrors"]] == ["INVOICE_NOT_SENDABLE"]
    bad_address = (await gql(SEND, {"input": {"id": invoice["id"], "to": "nope"}}, token=admin.token)).ok()
    assert bad_address["sendInvoice"]["userErrors"][0]["field"] == ["input", "to"]
    assert await rows(runtime, MailMessage) == []

    sent = (await gql(SEND, {"input": {"id": invoice["id"]}}, token=admin.token)).ok()["sendInvoice"]
    assert sent["userErrors"] == [] and sent["invoice"]["sentAt"] is not None
    assert sent["mailMessage"]["to"] == "ada@acme.example"
    assert sent["mailMessage"]["subject"] == f"Invoice {invoice['number']} from Acme"
    assert sent["mailMessage"]["status"] == "QUEUED" and sent["mailMessage"]["attempts"] == 0
    assert sent["mailMessage"]["attachments"] == {"invoicePdf": str(raw_id(invoice["id"]))}
    (stored,) = await rows(runtime, MailMessage)
    (stored_invoice,) = await rows(runtime, Invoice, Invoice.id == raw_id(invoice["id"]))
    assert stored.tenant_id == admin.tenant_id and stored_invoice.sent_at is not None
    assert "50.00 EUR" in stored.body_text
    (event,) = await rows(runtime, OutboxEvent, OutboxEvent.topic == "invoice.sent")
    assert event.payload == {
        "invoiceId": str(raw_id(invoice["id"])),
        "mailMessageId": str(stored.id),
        "to": stored.to_address,
    }

    # Without SMTP configured (this app), the message waits in the table, readable by admins.
    listed = (await gql(MAIL, token=admin.token)).ok()["mailMessages"]
    assert listed["totalCount"] == 1 and listed["nodes"][0]["status"] == "QUEUED"
    assert (await gql(MAIL, token=buyer.token)).error_codes == ["FORBIDDEN"]
    other = await quick_account(runtime, "globex", Role.TENANT_ADMIN)
    assert (await gql(MAIL, token=other.token)).ok()["mailMessages"]["totalCount"] == 0


async def test_delivery_attaches_the_pdf_and_survives_an_smtp_outage(
    runtime: Runtime, gql: GraphQLClient, smtp: SmtpServer
) -> None:
    admin = await quick_account(runtime, "acme", Role.MANAGER)
    buyer = await quick_account(runtime, "acme", email="ada@acme.example")
    first = await invoice_for(gql, admin, await make_order(runtime, buyer, [("A", "Widget", 123456, 1)]))
    second = await invoice_for(gql, admin, await make_order(runtime, buyer, [("B", "Gadget", 500, 1)]))
    for invoice in (first, second):
        assert (await gql(SEND, {"input": {"id": invoice["id"]}}, token=admin.token)).ok()["sendInvoice"][
            "userErrors"
        ] == []
    mailer = SmtpMailer(smtp.url, timeout=2)

    # The SMTP server is down: the round stops at the first message, which counts the attempt.
    report = await deliver_pending(runtime.db, mailer, SENDER)
    assert (report.sent, report.retrying, report.failed) == (0, 1, 0)
    waiting = await rows(runtime, MailMessage, order_by=MailMessage.created_at)
    assert [(m.status, m.attempts) for m in waiting] == [(MailStatus.QUEUED, 1), (MailStatus.QUEUED, 0)]
    assert waiting[0].last_error and "Connection" in waiting[0].last_error

    smtp.start()
    report = await deliver_pending(runtime.db, mailer, SENDER)
    assert (report.sent, report.retrying, report.failed) == (2, 0, 0)
    delivered = await rows(runtime, MailMessage, order_by=MailMessage.created_at)
    assert [(m.status, m.attempts, m.last_error) for m in delivered] == [
        (MailStatus.SENT, 2, None),
        (MailStatus.SENT, 1, None),
    ]
    assert all(m.sent_at is not None for m in delivered)
    assert smtp.inbox.recipients == [["ada@acme.example"], ["ada@acme.example"]]
    message = smtp.inbox.messages[0]
    assert message["From"] == SENDER and message["Subject"] == f"Invoice {first['number']} from Acme"
    assert message["X-Tenantgraph-Message-Id"] == str(delivered[0].id)
    filename, content_type, content = attachment(message)
    assert (filename, content_type) == (f"{first['number']}.pdf", "application/pdf")
    text = pdf_text(content)
    assert first["number"] in text and "1,234.56 EUR" in text
    # Nothing is sent twice.
    assert (await deliver_pending(runtime.db, mailer, SENDER)).sent == 0
    assert len(smtp.inbox.messages) == 2


@pytest.fixture
async def mailing_app(
    app: Starlette, settings: Settings, postgres: PostgresServer, redis_server: RedisServer, smtp: SmtpServer
) -> Any:
    application = create_app(
        make_settings(
            postgres.url,
            redis_server.url,
            smtp_url=smtp.url,
            mail_poll_seconds=0.2,
            mail_retry_seconds=0.2,
            billing_jobs_seconds=0,
        )
    )
    async with application.router.lifespan_context(application):
        yield application


async def test_the_runtime_s_sender_delivers_in_the_background_and_waits_out_an_outage(
    runtime: Runtime, mailing_app: Starlette, smtp: SmtpServer
) -> None:
    transport = httpx.ASGITransport(app=mailing_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mail") as http:
        gql = GraphQLClient(http)
        admin = await quick_account(runtime, "acme", Role.MANAGER)
        buyer = await quick_account(runtime, "acme", email="ada@acme.example")
        first = await invoice_for(gql, admin, await make_order(runtime, buyer))
        second = await invoice_for(gql, admin, await make_order(runtime, buyer))
        assert mailing_app.state.runtime.mail_sender.running

        smtp.start()
        await gql(SEND, {"input": {"id": first["id"]}}, token=admin.token)

        async def all_sent() -> bool:
            return all(m.status == MailStatus.SENT for m in await rows(runtime, MailMessage))

        await wait_until(all_sent)
        assert [attachment(m)[0] for m in smtp.inbox.messages] == [f"{first['number']}.pdf"]

        smtp.stop()
        await gql(SEND, {"input": {"id": second["id"]}}, token=admin.token)

        async def tried() -> bool:
            return any(
                m.attempts >= 1 and m.status == MailStatus.QUEUED for m in await rows(runtime, MailMessage)
            )

        await wait_until(tried)
        smtp.start()
        await wait_until(all_sent)
        assert [attachment(m)[0] for m in smtp.inbox.messages] == [
            f"{first['number']}.pdf",
            f"{second['number']}.pdf",
        ]
