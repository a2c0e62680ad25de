"""Demo notifications: the demo user of each tenant has a few unread ones (a welcome, a ticket
reply, a paid order), so the inbox and its count show something at once."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.identity.accounts import Tenant, User
from models.notifications import Notification, NotificationType

DEMO_NOTIFICATIONS = (
    (NotificationType.MESSAGE, "Welcome to the demo", "Look around: every list here is live data.", "/"),
    (NotificationType.TICKET_REPLY, "New reply on ticket #1", "Printer on the 3rd floor", "/tickets"),
    (NotificationType.ORDER_PAID, "Your order is paid", "We received your payment.", "/orders"),
)


async def seed_demo_notifications(session: AsyncSession, tenant: Tenant) -> None:
    """Idempotent: only for a demo user who has no notification a service sent yet."""
    user = await session.scalar(
        select(User).where(User.tenant_id == tenant.id, User.email == f"user@{tenant.slug}.example")
    )
    if user is None:
        return
    seeded = await session.scalar(
        select(Notification.id).where(Notification.user_id == user.id, Notification.data["demo"].as_boolean())
    )
    if seeded is not None:
        return
    session.add_all(
        Notification(
            id=uuid.uuid4(),
            tenant_id=tenant.id,
            user_id=user.id,
            type=kind.value,
            title=title,
            body=body,
            link=link,
            data={"demo": True},
        )
        for kind, title, body, link in DEMO_NOTIFICATIONS
    )
