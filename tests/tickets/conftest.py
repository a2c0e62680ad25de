"""Ticket test helpers: a help desk (a shop's tenant with a requester, another user, a support
agent and a manager), tickets made through the API, the GraphQL documents the tests share and
readers of what the database holds."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, update

from core.permissions import Role
from core.scope import TenantScope
from models.events import OutboxEvent
from models.tickets import Ticket, TicketChange
from server.runtime import Runtime
from services.tickets.states import TICKET_CHANGED
from tests.orders.conftest import Shop, new_shop, uuid_of
from tests.support.graphql import GraphQLClient, GraphQLResult
from tests.support.identity import Account, Identity

ALL = TenantScope.all_tenants()

TICKET_FIELDS = """
  id number subject description status priority category
  createdAt updatedAt firstResponseAt solvedAt closedAt firstResponseSeconds resolutionSeconds
  requester { email } assignee { email } commentCount
"""
PAYLOAD = f"ticket {{ {TICKET_FIELDS} }} userErrors {{ field code message }}"
CREATE = f"mutation($input: CreateTicketInput!) {{ createTicket(input: $input) {{ {PAYLOAD} }} }}"
UPDATE = f"mutation($input: UpdateTicketInput!) {{ updateTicket(input: $input) {{ {PAYLOAD} }} }}"
ASSIGN = f"mutation($input: AssignTicketInput!) {{ assignTicket(input: $input) {{ {PAYLOAD} }} }}"
SET_STATUS = f"mutation($input: SetTicketStatusInput!) {{ setTicketStatus(input: $input) {{ {PAYLOAD} }} }}"
CLOSE = f"mutation($input: TicketInput!) {{ closeTicket(input: $input) {{ {PAYLOAD} }} }}"
REOPEN = f"mutation($input: TicketInput!) {{ reopenTicket(input: $input) {{ {PAYLOAD} }} }}"
COMMENT = f"""
mutation($input: AddTicketCommentInput!) {{
  addTicketComment(input: $input) {{
    ticket {{ {TICKET_FIELDS} }} comment {{ id body internal author {{ email }} }}
    userErrors {{ field code message }}
  }}
}}
"""
TICKET = f"""
query($id: ID!) {{
  ticket(id: $id) {{
    {TICKET_FIELDS}
    comments {{ totalCount nodes {{ body internal author {{ email }} }} }}
    history {{ field from to actor {{ id }} }}
  }}
}}
"""


@dataclass
class Desk:
    """A tenant's help desk: a requester, another user, a support agent and a manager."""

    shop: Shop
    requester: Account
    other: Account
    agent: Account
    manager: Account

    @property
    def runtime(self) -> Runtime:
        return self.shop.runtime

    @property
    def gql(self) -> GraphQLClient:
        return self.shop.gql

    async def call(self, document: str, account: Account, **input: Any) -> dict[str, Any]:
        """A mutation's payload (no top-level errors)."""
        result = await self.gql(document, {"input": input}, token=account.token)
        payload: dict[str, Any] = next(iter(result.ok().values()))
        return payload

    async def open(self, account: Account | None = None, **extra: Any) -> dict[str, Any]:
        """A new ticket of ``account`` (the requester by default), asserting no userErrors."""
        values = {"subject": "The VPN drops", "description": "Every hour, since Monday.", **extra}
        payload = await self.call(CREATE, account or self.requester, **values)
        assert payload["userErrors"] == [], payload
        ticket: dict[str, Any] = payload["ticket"]
        return ticket

    async def ticket(self, account: Account, ticket_gid: str) -> GraphQLResult:
        return await self.gql(TICKET, {"id": ticket_gid}, token=account.token)

    async def row(self, ticket_gid: str) -> Ticket:
        async with self.shop.db.session(ALL) as session:
            found = await session.get(Ticket, uuid_of(ticket_gid))
        assert found is not None
        return found

    async def history(self, ticket_gid: str) -> list[tuple[str, str | None, str | None]]:
        async with self.shop.db.session(ALL) as session:
            rows = await session.scalars(
                select(TicketChange)
                .where(TicketChange.ticket_id == uuid_of(ticket_gid))
                .order_by(TicketChange.created_at, TicketChange.id)
            )
            return [(r.field, r.old_value, r.new_value) for r in rows]

    async def events(self) -> list[dict[str, Any]]:
        async with self.shop.db.session(ALL) as session:
            rows = await session.scalars(
                select(OutboxEvent.payload)
                .where(OutboxEvent.tenant_id == self.shop.tenant_id, OutboxEvent.topic == TICKET_CHANGED)
                .order_by(OutboxEvent.seq)
            )
            return list(rows)

    async def set_times(self, ticket_gid: str, **values: Any) -> None:
        """Moves a ticket's times (as if it had been solved or answered long ago)."""
        async with self.shop.db.transaction(ALL) as session:
            await session.execute(update(Ticket).where(Ticket.id == uuid_of(ticket_gid)).values(**values))


async def new_desk(runtime: Runtime, gql: GraphQLClient, identity: Identity) -> Desk:
    shop = await new_shop(runtime, gql, identity)
    return Desk(
        shop,
        requester=await shop.account(),
        other=await shop.account(),
        agent=await shop.account(Role.SUPPORT_AGENT),
        manager=await shop.account(Role.MANAGER),
    )


@pytest.fixture
async def desk(runtime: Runtime, gql: GraphQLClient, identity: Identity) -> Desk:
    return await new_desk(runtime, gql, identity)


def raw_id(global_id: str) -> uuid.UUID:
    return uuid_of(global_id)
