"""Delivering drafts inside the caller's transaction: to users of the tenant only, on the channels
their preferences allow — a notification row (in-app, with its NOTIFICATION_CHANGED event for the
subscriptions), a queued mail (services/mail_queue.py), a queued push per registered browser (sent
after commit by services/notifications/push.py) — so they exist exactly when the change that
caused them commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.identity.accounts import User
from models.notifications import Notification, NotificationChannel, PushDelivery, PushSubscription
from services.events import record_event
from services.mail_queue import queue_mail
from services.notifications.preferences import choices_of, wants
from services.notifications.rules import Draft
from services.notifications.templates import branding_of, context_for, mail_of, templates_of

# A notification was created, read or deleted; payload: userId, notificationId (null for
# "all read"), change (created | read | deleted). Its tenant's channel; the subscriptions
# (services/notifications/live.py) pass it to that user only.
NOTIFICATION_CHANGED = "notification.changed"


def record_notification_change(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    change: str,
    notification_id: uuid.UUID | None,
) -> None:
    record_event(
        session,
        topic=NOTIFICATION_CHANGED,
        tenant_id=tenant_id,
        payload={
            "userId": str(user_id),
            "notificationId": str(notification_id) if notification_id else None,
            "change": change,
        },
    )


async def _subscriptions(
    session: AsyncSession, user_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    rows = await session.execute(
        select(PushSubscription.user_id, PushSubscription.id).where(PushSubscription.user_id.in_(user_ids))
    )
    found: dict[uuid.UUID, list[uuid.UUID]] = {}
    for user_id, subscription_id in rows.all():
        found.setdefault(user_id, []).append(subscription_id)
    return found


async def deliver(
    session: AsyncSession, tenant_id: uuid.UUID, drafts: Sequence[Draft], event_id: uuid.UUID | None = None
) -> list[Notification]:
    """The drafts' notifications (in-app) and mails, for recipients that are users of ``tenant_id``
    (others are skipped); three statements, then the inserts at flush."""
    wanted = {draft.user_id for draft in drafts}
    users = {
        user_id: (email, name)
        for user_id, email, name in (
            await session.execute(
                select(User.id, User.email, User.full_name).where(
                    User.id.in_(wanted), User.tenant_id == tenant_id
                )
            )
        ).all()
    }
    choices = await choices_of(session, list(users))
    browsers = await _subscriptions(session, list(users))
    created: list[Notification] = []
    mails: list[Draft] = []
    for draft in drafts:
        if draft.user_id not in users:
            continue
        if wants(choices, draft.user_id, draft.type, NotificationChannel.IN_APP):
            notification = Notification(
                id=uuid.uuid4(),
                tenant_id=tenant_id,
                user_id=draft.user_id,
                type=draft.type.value,
                title=draft.title,
                body=draft.body,
                link=draft.link,
                data=draft.data,
                event_id=event_id,
            )
            session.add(notification)
            record_notification_change(session, tenant_id, draft.user_id, "created", notification.id)
            created.append(notification)
        if wants(choices, draft.user_id, draft.type, NotificationChannel.WEB_PUSH):
            message = {"type": draft.type.value, "title": draft.title, "body": draft.body, "link": draft.link}
            session.add_all(
                PushDelivery(id=uuid.uuid4(), tenant_id=tenant_id, subscription_id=browser, payload=message)
                for browser in browsers.get(draft.user_id, ())
            )
        if users[draft.user_id][0] and wants(choices, draft.user_id, draft.type, NotificationChannel.EMAIL):
            mails.append(draft)
    if mails:
        await _mail(session, tenant_id, mails, users)
    return created


async def _mail(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    drafts: Sequence[Draft],
    users: dict[uuid.UUID, tuple[str | None, str]],
) -> None:
    """Queues each draft's mail, rendered with the tenant's template of its type and its branding
    (services/notifications/templates.py; two statements for them all). The queue carries text."""
    templates = await templates_of(session, tenant_id)
    tenant = await branding_of(session, tenant_id)
    for draft in drafts:
        email, name = users[draft.user_id]
        if email is None:
            continue
        context = context_for(tenant, name, email, draft.title, draft.body, draft.link, draft.data)
        mail = mail_of(templates[draft.type], context)
        queue_mail(session, tenant_id=tenant_id, to=email, subject=mail.subject, body=mail.text)
