"""Notifications made from domain events in the event's own transaction: order paid, payment
failed, provisioning ACTIVE/FAILED, invite accepted, data export ready, and every case of
ticket.changed (an internal note never reaches the requester); preferences decide per channel
(in-app row, queued mail); a rolled-back transaction leaves neither."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from core.permissions import Role
from core.scope import TenantScope
from models.provisioning import ProvisioningStatus
from server.runtime import Runtime
from services.billing.payments import PAYMENT_FAILED
from services.events import record_event
from services.identity.data_export import run_export
from services.notifications.rules import TICKET_CHANGED
from services.provisioning.worker import run_steps_once
from tests.identity.test_invites import accept, invite
from tests.notifications.conftest import mails_to, notifications_of, record, types_of
from tests.orders.conftest import CONFIRM, SUBMIT, Shop, line
from tests.provisioning.conftest import Cloud
from tests.support.graphql import GraphQLClient
from tests.support.identity import quick_account
from tests.support.mail import mailed_token

PREFERENCES = """
mutation($input: UpdateNotificationPreferencesInput!) {
  updateNotificationPreferences(input: $input) {
    preferences { type channel enabled isDefault } userErrors { field code }
  }
}
"""


async def test_a_paid_order_notifies_its_buyer_in_the_same_transaction(shop: Shop) -> None:
    buyer = await shop.account()
    product = await shop.product(1500)
    order = await shop.quick(buyer, line(product, 1))
    await shop.move(SUBMIT, buyer, order["id"])
    assert await types_of(shop.runtime, buyer.user_id) == []  # submitted: nothing to say yet
    await shop.move(CONFIRM, shop.operator, order["id"])
    (paid,) = await notifications_of(shop.runtime, buyer.user_id)
    assert (paid.type, paid.title, paid.tenant_id) == ("ORDER_PAID", "Your order is paid", shop.tenant_id)
    assert paid.link == f"/orders/{paid.data['orderId']}" and paid.read_at is None
    assert paid.event_id is not None
    # ORDER_PAID mails nobody by default.
    assert await mails_to(shop.runtime, buyer.email) == []


async def test_provisioning_active_and_failed_notify_the_owner(cloud: Cloud) -> None:
    owner = await cloud.shop.account()
    await cloud.request(owner, status=ProvisioningStatus.RUNNING)
    assert await types_of(cloud.runtime, owner.user_id) == []
    await cloud.request(owner, status=ProvisioningStatus.ACTIVE)
    await cloud.request(owner, status=ProvisioningStatus.FAILED)
    assert await types_of(cloud.runtime, owner.user_id) == ["PROVISIONING_ACTIVE", "PROVISIONING_FAILED"]
    # A failure is mailed by default, the success is not.
    (mail,) = await mails_to(cloud.runtime, owner.email)
    assert mail.subject == "Setting up your service failed" and "/provisioning/" in mail.body_text


async def test_the_provisioning_worker_path_notifies_too(cloud: Cloud) -> None:
    """The worker commits in transactions of its own (services/provisioning/worker.py): the
    Database's before-commit hook sees those events as well."""
    owner = await cloud.shop.account()
    await cloud.request(owner, status=ProvisioningStatus.RUNNING)
    assert await run_steps_once(cloud.worker())
    assert await types_of(cloud.runtime, owner.user_id) == ["PROVISIONING_ACTIVE"]


async def test_payment_failed_follows_the_preferences_per_channel(shop: Shop) -> None:
    buyer = await shop.account()
    payload: dict[str, Any] = {
        "paymentId": str(uuid.uuid4()),
        "invoiceId": None,
        "orderId": None,
        "userId": str(buyer.user_id),
        "status": "FAILED",
        "amount": 1200,
        "currency": "EUR",
        "failureReason": "card declined",
        "actor": "service",
    }
    await record(shop.runtime, shop.tenant_id, PAYMENT_FAILED, payload)
    (failed,) = await notifications_of(shop.runtime, buyer.user_id)
    assert failed.body == "Your payment of 1200 EUR failed: card declined."
    (mail,) = await mails_to(shop.runtime, buyer.email)
    assert mail.subject == "A payment failed"
    # In-app off, mail on: a mail but no notification; then both off: nothing.
    changes = [{"type": "PAYMENT_FAILED", "channel": "IN_APP", "enabled": False}]
    result = (await shop.gql(PREFERENCES, {"input": {"preferences": changes}}, token=buyer.token)).ok()
    assert result["updateNotificationPreferences"]["userErrors"] == []
    await record(shop.runtime, shop.tenant_id, PAYMENT_FAILED, payload | {"paymentId": str(uuid.uuid4())})
    assert len(await notifications_of(shop.runtime, buyer.user_id)) == 1
    assert len(await mails_to(shop.runtime, buyer.email)) == 2
    changes = [{"type": "PAYMENT_FAILED", "channel": "EMAIL", "enabled": False}]
    await shop.gql(PREFERENCES, {"input": {"preferences": changes}}, token=buyer.token)
    await record(shop.runtime, shop.tenant_id, PAYMENT_FAILED, payload | {"paymentId": str(uuid.uuid4())})
    assert len(await notifications_of(shop.runtime, buyer.user_id)) == 1
    assert len(await mails_to(shop.runtime, buyer.email)) == 2


async def test_a_rolled_back_transaction_leaves_no_notification(shop: Shop) -> None:
    buyer = await shop.account()

    async def failing() -> None:
        async with shop.db.transaction(TenantScope.of(shop.tenant_id)) as session:
            payload = _ticket("assigned", buyer.user_id)
            record_event(session, topic=TICKET_CHANGED, tenant_id=shop.tenant_id, payload=payload)
            raise RuntimeError("the change fails")

    with pytest.raises(RuntimeError):
        await failing()
    assert await notifications_of(shop.runtime, buyer.user_id) == []


async def test_an_event_never_notifies_a_user_of_another_tenant(shop: Shop, runtime: Runtime) -> None:
    stranger = await quick_account(runtime, "elsewhere")
    await record(shop.runtime, shop.tenant_id, TICKET_CHANGED, _ticket("assigned", stranger.user_id))
    assert await notifications_of(runtime, stranger.user_id) == []


async def test_an_accepted_invite_notifies_the_inviter(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN, email="boss@acme.example")
    assert (await invite(gql, admin.token, "newcomer@acme.example"))["userErrors"] == []
    token = await mailed_token(runtime, "newcomer@acme.example")
    accepted = await accept(gql, token, "a-long-new-passphrase", "New Comer")
    assert accepted["userErrors"] == []
    (told,) = await notifications_of(runtime, admin.user_id)
    assert (told.type, told.body) == ("INVITE_ACCEPTED", "newcomer@acme.example accepted your invite.")


async def test_a_ready_data_export_notifies_its_owner(runtime: Runtime, gql: GraphQLClient) -> None:
    alice = await quick_account(runtime, "acme")
    requested = (await gql("mutation { requestDataExport { userErrors { code } } }", token=alice.token)).ok()
    assert requested["requestDataExport"]["userErrors"] == []
    assert await run_export(runtime.db, runtime.settings)
    (ready,) = await notifications_of(runtime, alice.user_id)
    assert (ready.type, ready.link) == ("DATA_EXPORT_READY", "/privacy/exports")
    # The export's own mail carries the link; the notification adds none by default.
    assert [m.subject for m in await mails_to(runtime, alice.email)] == ["Your data export is ready"]


def _ticket(
    change: str,
    assignee: uuid.UUID | None,
    *,
    requester: uuid.UUID | None = None,
    actor: uuid.UUID | None = None,
    internal: bool = False,
) -> dict[str, Any]:
    return {
        "ticket_id": str(uuid.uuid4()),
        "number": 42,
        "subject": "The printer is on fire",
        "change": change,
        "status": "PENDING",
        "requester_id": str(requester or uuid.uuid4()),
        "assignee_id": str(assignee) if assignee else None,
        "actor_id": str(actor) if actor else None,
        "comment_id": str(uuid.uuid4()) if change == "comment" else None,
        "internal": internal,
    }


async def test_ticket_changes_notify_requester_and_assignee(shop: Shop) -> None:
    requester, agent, other = await shop.account(), await shop.account(), await shop.account()
    r, a = requester.user_id, agent.user_id
    cases: list[tuple[dict[str, Any], dict[uuid.UUID, list[str]]]] = [
        # A public reply by the agent: the requester, as TICKET_REPLY.
        (_ticket("comment", a, requester=r, actor=a), {r: ["TICKET_REPLY"], a: []}),
        # An internal note: never the requester (nor its author).
        (_ticket("comment", a, requester=r, actor=a, internal=True), {r: [], a: []}),
        (_ticket("comment", a, requester=r, actor=other.user_id, internal=True), {r: []}),
        # The requester's comment: the assignee; none without one.
        (_ticket("comment", a, requester=r, actor=r), {r: [], a: ["TICKET_COMMENT"]}),
        (_ticket("comment", None, requester=r, actor=r), {r: [], a: []}),
        # A status change by someone else: the requester; by the requester: nobody.
        (_ticket("status", a, requester=r, actor=a), {r: ["TICKET_STATUS_CHANGED"], a: []}),
        (_ticket("status", a, requester=r, actor=r), {r: [], a: []}),
        (_ticket("status", a, requester=r, actor=a, internal=True), {r: []}),
        # Assigned: the assignee, unless they took it themselves.
        (_ticket("assigned", a, requester=r, actor=other.user_id), {a: ["TICKET_ASSIGNED"], r: []}),
        (_ticket("assigned", a, requester=r, actor=a), {a: []}),
        # Created or updated: nobody.
        (_ticket("created", a, requester=r, actor=r), {a: [], r: []}),
        (_ticket("updated", a, requester=r, actor=a), {a: [], r: []}),
    ]
    for payload, expected in cases:
        before = {user: len(await notifications_of(shop.runtime, user)) for user in expected}
        await record(shop.runtime, shop.tenant_id, TICKET_CHANGED, payload)
        for user, types in expected.items():
            new = (await notifications_of(shop.runtime, user))[before[user] :]
            assert [n.type for n in new] == types, (payload["change"], payload["internal"], user == r)
    (reply,) = [n for n in await notifications_of(shop.runtime, r) if n.type == "TICKET_REPLY"]
    assert (reply.title, reply.body) == ("New reply on ticket #42", "The printer is on fire")
    assert reply.data["number"] == 42 and reply.link == f"/tickets/{reply.data['ticketId']}"
    # A reply is mailed to the requester by default, with the link.
    (mail,) = await mails_to(shop.runtime, requester.email)
    assert mail.subject == "New reply on ticket #42" and "/tickets/" in mail.body_text
