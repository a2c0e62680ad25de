"""A user's notifications: the list (newest first, unread or of one type), the unread count,
marking read, deleting; and ``send_notification`` for service principals. Nobody reaches another
user's notification: it is NOT_FOUND, like one that does not exist."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, delete, func, select, update

from core.errors import Forbidden, NotFound, invalid
from core.permissions import NOTIFICATION_SENDERS
from core.principal import Principal
from loaders.pagination import Page, PageArgs, SortKey, paginate
from models.base import utcnow
from models.identity.accounts import User
from models.notifications import Notification, NotificationType
from services.context import ServiceContext
from services.notifications.delivery import deliver, record_notification_change
from services.notifications.errors import NotificationErrorCode
from services.notifications.rules import Draft

NEWEST_FIRST = SortKey(Notification.created_at, Notification.id, descending=True)
MAX_IDS = 100
MAX_RECIPIENTS = 100
MAX_TITLE, MAX_BODY, MAX_LINK, MAX_DATA_BYTES = 200, 2000, 2000, 4096
E = NotificationErrorCode


def can_read_notification(principal: Principal | None, notification: Notification) -> bool:
    """Only its user reads a notification (no role sees anyone else's)."""
    return principal is not None and not principal.is_service and notification.user_id == principal.user_id


@dataclass(frozen=True, slots=True)
class NotificationFilter:
    unread: bool | None = None
    type: NotificationType | None = None


def _mine(principal: Principal, which: NotificationFilter) -> Select[Any]:
    statement = select(Notification).where(Notification.user_id == principal.user_id)
    if which.unread is not None:
        statement = statement.where(
            Notification.read_at.is_(None) if which.unread else Notification.read_at.is_not(None)
        )
    if which.type is not None:
        statement = statement.where(Notification.type == which.type.value)
    return statement


async def list_notifications(
    ctx: ServiceContext, which: NotificationFilter, page: PageArgs
) -> Page[Notification]:
    principal = ctx.require_principal()
    return await paginate(ctx.read, _mine(principal, which), NEWEST_FIRST, page)


async def unread_count(ctx: ServiceContext) -> int:
    principal = ctx.require_principal()
    async with ctx.read() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == principal.user_id, Notification.read_at.is_(None))
        )
    return int(count or 0)


async def mark_read(ctx: ServiceContext, ids: Sequence[uuid.UUID]) -> list[Notification]:
    """Marks the caller's notifications read (those read already keep their time); NOT_FOUND as a
    userError if one of ``ids`` is not theirs, and then none is marked."""
    principal = ctx.require_principal()
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        raise invalid("ids", E.REQUIRED, "Name at least one notification.")
    if len(wanted) > MAX_IDS:
        raise invalid("ids", E.TOO_MANY, f"At most {MAX_IDS} notifications at once.")
    async with ctx.transaction() as session:
        rows = {
            row.id: row
            for row in await session.scalars(
                select(Notification)
                .where(Notification.id.in_(wanted), Notification.user_id == principal.user_id)
                .with_for_update()
            )
        }
        if len(rows) != len(wanted):
            raise invalid("ids", E.NOT_FOUND, "No such notification of yours.")
        now = utcnow()
        for row in rows.values():
            if row.read_at is None:
                row.read_at = now
                record_notification_change(session, row.tenant_id, row.user_id, "read", row.id)
    return [rows[i] for i in wanted]


async def mark_all_read(ctx: ServiceContext) -> int:
    """Marks every unread notification of the caller read; how many there were."""
    principal = ctx.require_principal()
    async with ctx.transaction() as session:
        result = await session.execute(
            update(Notification)
            .where(Notification.user_id == principal.user_id, Notification.read_at.is_(None))
            .values(read_at=utcnow())
            .returning(Notification.id)
        )
        marked = len(result.all())
        if marked:
            record_notification_change(session, principal.tenant_id, principal.user_id, "read", None)
    return marked


async def delete_notification(ctx: ServiceContext, notification_id: uuid.UUID) -> uuid.UUID:
    principal = ctx.require_principal()
    async with ctx.transaction() as session:
        gone = await session.scalar(
            delete(Notification)
            .where(Notification.id == notification_id, Notification.user_id == principal.user_id)
            .returning(Notification.tenant_id)
        )
        if gone is None:
            raise NotFound("Notification")
        record_notification_change(session, gone, principal.user_id, "deleted", notification_id)
    return notification_id


@dataclass(frozen=True, slots=True)
class Message:
    user_ids: Sequence[uuid.UUID]
    title: str
    body: str = ""
    link: str | None = None
    type: NotificationType = NotificationType.MESSAGE
    # Checked: a JSON object of at most MAX_DATA_BYTES.
    data: Any = field(default_factory=dict)


def _checked(message: Message) -> Draft:
    title, body, link = message.title.strip(), message.body.strip(), (message.link or "").strip() or None
    if not title:
        raise invalid("title", E.REQUIRED, "Give a title.")
    for name, value, limit in (
        ("title", title, MAX_TITLE),
        ("body", body, MAX_BODY),
        ("link", link, MAX_LINK),
    ):
        if value is not None and len(value) > limit:
            raise invalid(name, E.TOO_LONG, f"At most {limit} characters.")
    if link is not None and not (
        link.startswith("https://") or (link.startswith("/") and not link.startswith("//"))
    ):
        raise invalid("link", E.INVALID_LINK, "A link is an https URL or a path of the app (/...).")
    if not isinstance(message.data, dict) or len(json.dumps(message.data).encode()) > MAX_DATA_BYTES:
        raise invalid("data", E.TOO_LONG, f"Data is a JSON object of at most {MAX_DATA_BYTES} bytes.")
    return Draft(uuid.UUID(int=0), message.type, title, body, link, message.data)


async def send_notification(ctx: ServiceContext, message: Message) -> list[Notification]:
    """Service principals and platform admins: one notification to each user named (users of the
    caller's tenant scope), by their preferences; all or none."""
    principal = ctx.require_principal()
    if not principal.is_service_or(*NOTIFICATION_SENDERS):
        raise Forbidden("Only services send notifications.")
    template = _checked(message)
    recipients = list(dict.fromkeys(message.user_ids))
    if not recipients:
        raise invalid("userIds", E.REQUIRED, "Name at least one user.")
    if len(recipients) > MAX_RECIPIENTS:
        raise invalid("userIds", E.TOO_MANY, f"At most {MAX_RECIPIENTS} users at once.")
    async with ctx.transaction() as session:
        tenants = dict(
            (await session.execute(select(User.id, User.tenant_id).where(User.id.in_(recipients)))).all()
        )
        if len(tenants) != len(recipients):
            raise invalid("userIds", E.USER_NOT_FOUND, "Every recipient is a user of the tenant.")
        by_tenant: dict[uuid.UUID, list[Draft]] = defaultdict(list)
        for user_id in recipients:
            draft = Draft(user_id, template.type, template.title, template.body, template.link, template.data)
            by_tenant[tenants[user_id]].append(draft)
        sent = [
            n for tenant_id, drafts in by_tenant.items() for n in await deliver(session, tenant_id, drafts)
        ]
    return sent
