"""Web Push (RFC 8030, message encryption RFC 8291 aes128gcm, VAPID RFC 8292): browsers' push
subscriptions per user, and the worker that sends the deliveries queued by delivery.py.

A delivery is queued in the notification's transaction and sent after commit by ``PushWorker``
(every process runs one; deliveries are claimed with FOR UPDATE SKIP LOCKED): pywebpush encrypts
the payload for the subscription's keys and signs the VAPID header with
``web_push_vapid_private_key``. A 404 or 410 from the push service means the subscription is gone:
it is removed (with its deliveries). Other failures are retried up to MAX_ATTEMPTS."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush
from sqlalchemy import Select, delete, func, select

from core.errors import invalid
from core.scope import TenantScope
from core.settings import Settings
from core.workers import PollingWorker, Round
from models.base import utcnow
from models.db import Database, insert_unless_present
from models.notifications import PushDelivery, PushStatus, PushSubscription
from services.context import ServiceContext
from services.notifications.errors import NotificationErrorCode

log = logging.getLogger(__name__)
E = NotificationErrorCode
MAX_ATTEMPTS = 5
BATCH = 20
GONE = (404, 410)
MAX_SUBSCRIPTIONS_PER_USER = 20


def _b64url(raw: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        return b""


def public_key(settings: Settings) -> str | None:
    """The VAPID public key for browsers (``applicationServerKey``, base64url of the 65-byte point);
    None when push is not configured."""
    if not settings.web_push_vapid_private_key:
        return None
    vapid = Vapid02.from_string(settings.web_push_vapid_private_key)
    point = vapid.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class NewSubscription:
    endpoint: str
    p256dh: str
    auth: str


def checked_subscription(settings: Settings, new: NewSubscription) -> NewSubscription:
    """The subscription trimmed, if it holds: an https endpoint (http too with
    web_push_allow_http), a 65-byte P-256 point and a 16-byte auth secret; else INVALID_SUBSCRIPTION."""
    endpoint = new.endpoint.strip()
    url = urlparse(endpoint)
    allowed = ("https", "http") if settings.web_push_allow_http else ("https",)
    if len(endpoint) > 2000 or url.scheme not in allowed or not url.netloc:
        raise invalid("endpoint", E.INVALID_SUBSCRIPTION, "The endpoint is the push service's https URL.")
    key = _b64url(new.p256dh)
    if len(key) != 65 or key[0] != 4:
        raise invalid("p256dh", E.INVALID_SUBSCRIPTION, "p256dh is a P-256 public key (65 bytes, base64url).")
    if len(_b64url(new.auth)) != 16:
        raise invalid("auth", E.INVALID_SUBSCRIPTION, "auth is the 16-byte auth secret (base64url).")
    return NewSubscription(endpoint, new.p256dh.strip(), new.auth.strip())


def _of(user_id: uuid.UUID, endpoint: str) -> Select[PushSubscription]:
    return select(PushSubscription).where(
        PushSubscription.user_id == user_id, PushSubscription.endpoint == endpoint
    )


async def register_subscription(ctx: ServiceContext, new: NewSubscription) -> PushSubscription:
    """Registers a browser of the caller's, or renews the keys of one registered before; at most
    MAX_SUBSCRIPTIONS_PER_USER browsers per user."""
    principal = ctx.require_principal()
    checked = checked_subscription(ctx.settings, new)
    async with ctx.transaction() as session:
        row = await session.scalar(_of(principal.user_id, checked.endpoint).with_for_update())
        if row is None:
            count = await session.scalar(
                select(func.count())
                .select_from(PushSubscription)
                .where(PushSubscription.user_id == principal.user_id)
            )
            if int(count or 0) >= MAX_SUBSCRIPTIONS_PER_USER:
                raise invalid(
                    "endpoint", E.TOO_MANY, f"At most {MAX_SUBSCRIPTIONS_PER_USER} browsers per user."
                )
            await insert_unless_present(
                session,
                PushSubscription,
                [PushSubscription.user_id, PushSubscription.endpoint],
                id=uuid.uuid4(),
                tenant_id=principal.tenant_id,
                user_id=principal.user_id,
                endpoint=checked.endpoint,
                p256dh=checked.p256dh,
                auth=checked.auth,
                created_at=utcnow(),
            )
            row = await session.scalar(_of(principal.user_id, checked.endpoint).with_for_update())
        if row is None:  # removed by a concurrent unregister between the two statements
            raise invalid(
                "endpoint", E.INVALID_SUBSCRIPTION, "The subscription was removed meanwhile; try again."
            )
        row.p256dh, row.auth = checked.p256dh, checked.auth
    return row


async def unregister_subscription(ctx: ServiceContext, endpoint: str) -> bool:
    """Removes the caller's subscription of ``endpoint``; whether there was one."""
    principal = ctx.require_principal()
    async with ctx.transaction() as session:
        gone = await session.scalar(
            delete(PushSubscription)
            .where(
                PushSubscription.user_id == principal.user_id, PushSubscription.endpoint == endpoint.strip()
            )
            .returning(PushSubscription.id)
        )
    return gone is not None


@dataclass(frozen=True, slots=True)
class _Job:
    delivery_id: uuid.UUID
    tenant_id: uuid.UUID
    subscription_id: uuid.UUID
    info: dict[str, Any]
    data: str


async def _claim(db: Database) -> list[_Job]:
    """Queued deliveries, oldest first, each taken by one worker (attempts + 1, committed)."""
    async with db.transaction(TenantScope.all_tenants()) as session:
        rows = (
            await session.execute(
                select(PushDelivery, PushSubscription)
                .join(PushSubscription, PushSubscription.id == PushDelivery.subscription_id)
                .where(PushDelivery.status == PushStatus.QUEUED)
                .order_by(PushDelivery.created_at)
                .limit(BATCH)
                .with_for_update(of=PushDelivery, skip_locked=True)
            )
        ).all()
        jobs = []
        for delivery, subscription in rows:
            delivery.attempts += 1
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status = PushStatus.FAILED
            info = {
                "endpoint": subscription.endpoint,
                "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
            }
            jobs.append(
                _Job(delivery.id, delivery.tenant_id, subscription.id, info, json.dumps(delivery.payload))
            )
        return jobs


def _send(settings: Settings, job: _Job) -> int:
    """POSTs the encrypted message; the push service's status (201 on success)."""
    try:
        response = webpush(
            job.info,
            data=job.data,
            vapid_private_key=Vapid02.from_string(settings.web_push_vapid_private_key),
            vapid_claims={"sub": settings.web_push_vapid_subject},
            content_encoding="aes128gcm",
            timeout=10,
            ttl=3600,
        )
    except WebPushException as error:
        return error.response.status_code if error.response is not None else 0
    return response.status_code if not isinstance(response, str) else 0


async def _settle(db: Database, job: _Job, status: int) -> None:
    async with db.transaction(TenantScope.of(job.tenant_id)) as session:
        if status in GONE:
            await session.execute(delete(PushSubscription).where(PushSubscription.id == job.subscription_id))
            return
        delivery = await session.get(PushDelivery, job.delivery_id, with_for_update=True)
        if delivery is None:
            return
        if 200 <= status < 300:
            delivery.status, delivery.sent_at, delivery.last_error = PushStatus.SENT, utcnow(), None
        else:
            delivery.last_error = f"push service answered {status or 'nothing'}"
            if delivery.attempts < MAX_ATTEMPTS:
                delivery.status = PushStatus.QUEUED


async def send_pushes_once(db: Database, settings: Settings) -> int:
    """One round: claims and sends queued deliveries; how many were tried."""
    if not settings.web_push_vapid_private_key:
        return 0
    jobs = await _claim(db)
    for job in jobs:
        status = await asyncio.to_thread(_send, settings, job)
        if not 200 <= status < 300:
            log.warning("web push %s: the push service answered %s", job.delivery_id, status)
        await _settle(db, job, status)
    return len(jobs)


class PushWorker(PollingWorker):
    name = "web-push"

    def __init__(self, db: Database, settings: Settings) -> None:
        super().__init__(settings.web_push_poll_seconds)
        self.db, self.settings = db, settings

    async def run_round(self) -> Round:
        return Round.MORE if await send_pushes_once(self.db, self.settings) >= BATCH else Round.DONE
