"""Outgoing mail: queued in the database first, delivered by a sender.

``queue_mail`` (services/mail_queue.py) stores a MailMessage in the caller's transaction, so the
mail exists exactly when the change that caused it does. When SMTP is configured
(settings.smtp_url) every server process runs a ``MailSender`` that calls ``deliver_pending``:
queued messages are claimed with SELECT ... FOR UPDATE SKIP LOCKED (one process sends each),
attachments are rendered (the invoice PDF), the message goes out through the ``Mailer`` adapter
and is marked SENT. A message the server refuses for good (5xx) becomes FAILED at once. A failure
that may pass (a 4xx answer, a refused or dropped connection, a timeout) keeps the message QUEUED
with ``attempts`` and ``last_error`` updated and ``next_attempt_at`` set: it is not tried again
before then (``retry_seconds`` after the first failure, doubling after each, at most an hour), and
after ``max_attempts`` tries (settings.mail_max_attempts, default 8) it becomes FAILED with its
last error kept, so nothing stays queued forever. Such a failure ends the round (the server is
probably unwell; the rest wait for the next). Without SMTP, messages stay QUEUED in the table,
where tests and the demo read them."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.permissions import TENANT_ADMINS
from core.scope import TenantScope
from core.workers import PollingWorker, Round
from loaders.pagination import Page, PageArgs, SortKey, paginate
from models.base import utcnow
from models.billing import Invoice, MailMessage, MailStatus
from models.db import Database
from services.billing.invoice_pdf import invoice_document, pdf_filename, render_invoice_pdf
from services.context import ServiceContext
from services.mail_queue import queue_mail as queue_mail  # billing's callers import it from here

log = logging.getLogger(__name__)

BATCH_SIZE = 50
MAX_BACKOFF_SECONDS = 60.0
MESSAGE_ID_HEADER = "X-Tenantgraph-Message-Id"
# settings.mail_max_attempts and settings.mail_retry_seconds give the sender its own.
DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_RETRY_SECONDS = 60.0
MAX_RETRY_DELAY_SECONDS = 3600.0


class MailError(Exception):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Deliver or raise MailError (``permanent`` when retrying cannot help)."""


class SmtpMailer:
    """SMTP from a URL: ``smtp://[user:password@]host[:port][?starttls=true]`` or ``smtps://...``."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"not an SMTP URL: {url!r}")
        self.tls = parts.scheme == "smtps"
        self.starttls = parse_qs(parts.query).get("starttls", ["false"])[0].lower() == "true"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout

    def _send_now(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        client: smtplib.SMTP = (
            smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
            if self.tls
            else smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        )
        with client:
            if self.starttls:
                client.starttls(context=context)
            if self.username:
                client.login(self.username, self.password or "")
            client.send_message(message)

    async def send(self, message: EmailMessage) -> None:
        try:
            await asyncio.to_thread(self._send_now, message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise MailError(f"recipient refused: {exc.recipients}", permanent=True) from exc
        except smtplib.SMTPResponseException as exc:
            text = (
                exc.smtp_error.decode(errors="replace")
                if isinstance(exc.smtp_error, bytes)
                else exc.smtp_error
            )
            raise MailError(f"SMTP {exc.smtp_code}: {text}", permanent=exc.smtp_code >= 500) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(f"{type(exc).__name__}: {exc}", permanent=False) from exc


def create_mailer(smtp_url: str) -> Mailer | None:
    return SmtpMailer(smtp_url) if smtp_url else None


# ---- delivery -----------------------------------------------------------------------------


@dataclass(slots=True)
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    # The round ended early on a failure that may pass (the server is unreachable or unwell).
    stopped: bool = False


async def _attachments(session: AsyncSession, message: MailMessage) -> list[tuple[str, str, bytes]]:
    """(file name, MIME type, content) of each attachment reference."""
    files: list[tuple[str, str, bytes]] = []
    invoice_id = message.attachments.get("invoicePdf")
    if invoice_id:
        invoice = await session.get(Invoice, uuid.UUID(invoice_id))
        if invoice is None or invoice.tenant_id != message.tenant_id:
            raise MailError(f"attached invoice {invoice_id} does not exist", permanent=True)
        document = await invoice_document(session, invoice)
        files.append((pdf_filename(invoice), "application/pdf", render_invoice_pdf(document)))
    return files


async def _email(session: AsyncSession, message: MailMessage, mail_from: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = mail_from
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(domain=mail_from.rpartition("@")[2] or None)
    email[MESSAGE_ID_HEADER] = str(message.id)
    email.set_content(message.body_text)
    for filename, mime, content in await _attachments(session, message):
        maintype, _, subtype = mime.partition("/")
        email.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return email


def retry_delay(attempts: int, retry_seconds: float) -> timedelta:
    """How long a message waits after its ``attempts``-th failed try."""
    return timedelta(seconds=min(retry_seconds * 2 ** max(attempts - 1, 0), MAX_RETRY_DELAY_SECONDS))


def _failed_try(
    message: MailMessage, exc: MailError, now: datetime, max_attempts: int, retry_seconds: float
) -> bool:
    """Records a failed try on ``message``; True when it is FAILED for good now."""
    message.last_error = str(exc)[:1000]
    if exc.permanent or message.attempts >= max_attempts:
        message.status = MailStatus.FAILED
        message.next_attempt_at = None
        log.error(
            "mail %s to %s failed for good after %d attempt(s): %s",
            message.id,
            message.to_address,
            message.attempts,
            exc,
        )
        return True
    message.next_attempt_at = now + retry_delay(message.attempts, retry_seconds)
    log.warning("mail %s not sent (attempt %d of %d): %s", message.id, message.attempts, max_attempts, exc)
    return False


async def deliver_pending(
    db: Database,
    mailer: Mailer,
    mail_from: str,
    limit: int = BATCH_SIZE,
    *,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    retry_seconds: float = 0.0,
) -> DeliveryReport:
    """Send up to ``limit`` queued messages that are due, oldest first. A failure that may pass
    ends the round (the rest wait for the next one); every try is counted on the message it was
    for, and its last one (``max_attempts``) fails it for good. A failed message waits
    ``retry_seconds`` (doubling) before its next try; none by default, the sender passes its
    settings'."""
    report = DeliveryReport()
    now = utcnow()
    async with db.transaction(TenantScope.all_tenants()) as session:
        messages = list(
            await session.scalars(
                select(MailMessage)
                .where(
                    MailMessage.status == MailStatus.QUEUED,
                    or_(MailMessage.next_attempt_at.is_(None), MailMessage.next_attempt_at <= now),
                )
                .order_by(MailMessage.created_at, MailMessage.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        for message in messages:
            message.attempts += 1
            try:
                await mailer.send(await _email(session, message, mail_from))
            except MailError as exc:
                if _failed_try(message, exc, now, max_attempts, retry_seconds):
                    report.failed += 1
                    if exc.permanent:
                        continue
                else:
                    report.retrying += 1
                report.stopped = True
                break
            message.status = MailStatus.SENT
            message.sent_at = utcnow()
            message.last_error = None
            message.next_attempt_at = None
            report.sent += 1
    return report


class MailSender(PollingWorker):
    """Delivers queued mail in the background of a server process."""

    name = "mail-sender"

    def __init__(
        self,
        db: Database,
        mailer: Mailer,
        mail_from: str,
        poll_seconds: float,
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        retry_seconds: float = DEFAULT_RETRY_SECONDS,
    ) -> None:
        super().__init__(poll_seconds, max_retry_seconds=MAX_BACKOFF_SECONDS)
        self.db = db
        self.mailer = mailer
        self.mail_from = mail_from
        self.max_attempts = max_attempts
        self.retry_seconds = retry_seconds

    async def run_round(self) -> Round:
        report = await deliver_pending(
            self.db,
            self.mailer,
            self.mail_from,
            max_attempts=self.max_attempts,
            retry_seconds=self.retry_seconds,
        )
        if report.stopped:
            return Round.FAILED
        return Round.MORE if report.sent == BATCH_SIZE else Round.DONE


async def list_mail(
    ctx: ServiceContext, page: PageArgs, status: MailStatus | None = None
) -> Page[MailMessage]:
    """The tenant's outgoing mail, newest first, optionally of one status (FAILED: what never
    went out): for tenant admins (and the demo)."""
    ctx.require_role(*TENANT_ADMINS)
    query = select(MailMessage)
    if status is not None:
        query = query.where(MailMessage.status == status)
    return await paginate(
        ctx.read, query, SortKey(MailMessage.created_at, MailMessage.id, descending=True), page
    )
