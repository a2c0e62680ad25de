"""Notification test helpers: events recorded the way services record them (in a transaction of
the app's database, whose before-commit hook makes the notifications), and readers of the
notifications and queued mails the database holds."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from core.scope import TenantScope
from models.billing import MailMessage
from models.notifications import Notification
from server.runtime import Runtime
from services.events import record_event
from tests.orders.conftest import Shop, new_shop
from tests.provisioning.conftest import Cloud, new_cloud

# The server process (module scope) that test_subscriptions.py talks to: one running no worker.
from tests.provisioning.test_subscriptions import server  # noqa: F401
from tests.support.graphql import GraphQLClient
from tests.support.identity import Identity

ALL = TenantScope.all_tenants()
FIELDS = "id type title body link data unread readAt createdAt"
LIST = f"""
query($filter: NotificationFilterInput, $first: Int, $after: String) {{
  notifications(filter: $filter, first: $first, after: $after) {{
    totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ {FIELDS} }}
  }}
}}
"""
COUNT = "{ unreadNotificationCount }"


async def record(runtime: Runtime, tenant_id: uuid.UUID, topic: str, payload: dict[str, Any]) -> None:
    """One event in a transaction of its own, as a service records it."""
    async with runtime.db.transaction(TenantScope.of(tenant_id)) as session:
        record_event(session, topic=topic, tenant_id=tenant_id, payload=payload)


async def notifications_of(runtime: Runtime, user_id: uuid.UUID) -> list[Notification]:
    async with runtime.db.session(ALL) as session:
        rows = await session.scalars(
            select(Notification).where(Notification.user_id == user_id).order_by(Notification.created_at)
        )
        return list(rows)


async def types_of(runtime: Runtime, user_id: uuid.UUID) -> list[str]:
    return [n.type for n in await notifications_of(runtime, user_id)]


async def mails_to(runtime: Runtime, address: str) -> list[MailMessage]:
    async with runtime.db.session(ALL) as session:
        rows = await session.scalars(select(MailMessage).where(MailMessage.to_address == address))
        return list(rows)


@pytest.fixture
async def shop(runtime: Runtime, gql: GraphQLClient, identity: Identity) -> Shop:
    return await new_shop(runtime, gql, identity)


@pytest.fixture
async def cloud(runtime: Runtime, gql: GraphQLClient, identity: Identity) -> Cloud:
    return await new_cloud(runtime, gql, identity)
