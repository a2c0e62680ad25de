"""Helpers for the billing tests: orders as the orders domain stores them,
GraphQL documents, webhook signatures computed by hand, and waiting."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import func, select

from core.scope import TenantScope
from models.orders import Order, OrderItem, OrderStatus
from server.runtime import Runtime
from services.orders import pricing
from tests.support.graphql import GraphQLClient
from tests.support.identity import Account, global_id

_numbers = itertools.count(1)
T = TypeVar("T")


def gid(type_name: str, raw: uuid.UUID | str) -> str:
    return global_id(type_name, uuid.UUID(str(raw)))


def raw_id(global_id_value: str) -> uuid.UUID:
    import base64

    return uuid.UUID(base64.b64decode(global_id_value).decode().partition(":")[2])


@dataclass(frozen=True)
class PlacedOrder:
    id: uuid.UUID
    number: str
    currency: str
    subtotal: int
    discount: int
    tax: int
    shipping: int
    total: int
    item_totals: tuple[int, ...]

    @property
    def gid(self) -> str:
        return gid("Order", self.id)


async def make_order(
    runtime: Runtime,
    owner: Account,
    lines: Sequence[tuple[str, str, int, int]] = (("SKU-1", "Widget", 1000, 1),),
    *,
    status: OrderStatus = OrderStatus.AWAITING_PAYMENT,
    currency: str = "EUR",
    discount: pricing.Discount | None = None,
    tax_rate_bps: int = 0,
    shipping: int = 0,
) -> PlacedOrder:
    """An order stored the way the orders domain stores it (items priced by services/orders/pricing.py)."""
    priced = pricing.price_order(
        [pricing.Line(unit_price=price, quantity=qty) for _, _, price, qty in lines],
        discount=discount,
        tax_rate_bps=tax_rate_bps,
        shipping=shipping,
    )
    order_id = uuid.uuid4()
    number = f"ORD-T{next(_numbers):06d}"
    async with runtime.db.transaction(TenantScope.of(owner.tenant_id)) as session:
        session.add(
            Order(
                id=order_id,
                number=number,
                user_id=owner.user_id,
                status=status,
                currency=currency,
                subtotal=priced.subtotal,
                discount_total=priced.discount,
                tax_total=priced.tax,
                shipping_total=priced.shipping,
                total=priced.total,
                refunded_total=0,
            )
        )
        await session.flush()
        session.add_all(
            OrderItem(
                order_id=order_id,
                position=position,
                sku=sku,
                name=name,
                unit_price=price,
                quantity=qty,
                discount_amount=line.discount,
                tax_amount=line.tax,
                total=line.total,
            )
            for position, ((sku, name, price, qty), line) in enumerate(
                zip(lines, priced.lines, strict=True), 1
            )
        )
    return PlacedOrder(
        order_id,
        number,
        currency,
        priced.subtotal,
        priced.discount,
        priced.tax,
        priced.shipping,
        priced.total,
        tuple(line.total for line in priced.lines),
    )


async def count_rows(runtime: Runtime, model: type, *where: Any) -> int:
    async with runtime.db.session(TenantScope.all_tenants()) as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def rows(runtime: Runtime, model: type[T], *where: Any, order_by: Any = None) -> list[T]:
    async with runtime.db.session(TenantScope.all_tenants()) as session:
        statement = select(model).where(*where)
        if order_by is not None:
            statement = statement.order_by(order_by)
        return list(await session.scalars(statement))


async def wait_until(check: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


# ---- webhook signatures, computed here from the providers' documented schemes ------------------


def stripe_signature(body: bytes, secret: str, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def hyperswitch_signature(body: bytes, key: str) -> str:
    return hmac.new(key.encode(), body, hashlib.sha512).hexdigest()


def stripe_event(event_type: str, obj: dict[str, Any], event_id: str | None = None) -> bytes:
    return json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": obj},
        }
    ).encode()


# ---- GraphQL documents ----------------------------------------------------------------------

INVOICE_FIELDS = """
  id number status currency issuedAt dueAt paidAt voidedAt sentAt pdfUrl
  subtotal { amount currency } taxTotal { amount } total { amount currency }
  amountPaid { amount } amountDue { amount }
  customer { email }
  lines {
    position description quantity unitAmount { amount } discount { amount } tax { amount } total { amount }
  }
"""

CREATE_INVOICE = f"""
mutation($input: CreateInvoiceForOrderInput!) {{
  createInvoiceForOrder(input: $input) {{
    invoice {{ {INVOICE_FIELDS} }} userErrors {{ field code message }}
  }}
}}
"""

ISSUE_INVOICE = f"""
mutation($input: InvoiceIdInput!) {{
  issueInvoice(input: $input) {{ invoice {{ {INVOICE_FIELDS} }} userErrors {{ field code message }} }}
}}
"""

VOID_INVOICE = """
mutation($input: InvoiceIdInput!) {
  voidInvoice(input: $input) { invoice { id status voidedAt } userErrors { field code message } }
}
"""

PAYMENT_FIELDS = """
  id status provider providerPaymentId clientSecret cardLast4 failureReason succeededAt
  amount { amount currency } amountRefunded { amount }
  invoice { id status amountPaid { amount } }
  order { id status refundedTotal { amount } }
"""

CREATE_INTENT = f"""
mutation($input: CreatePaymentIntentInput!) {{
  createPaymentIntent(input: $input) {{
    payment {{ {PAYMENT_FIELDS} }} clientSecret userErrors {{ field code message }}
  }}
}}
"""

CONFIRM_INTENT = f"""
mutation($input: ConfirmPaymentIntentInput!) {{
  confirmPaymentIntent(input: $input) {{ payment {{ {PAYMENT_FIELDS} }} userErrors {{ field code message }} }}
}}
"""

ADD_CARD = """
mutation($input: AddPaymentMethodInput!) {
  addPaymentMethod(input: $input) {
    paymentMethod { id brand last4 expMonth expYear isDefault provider }
    userErrors { field code message }
  }
}
"""

REQUEST_REFUND = """
mutation($input: RequestRefundInput!) {
  requestRefund(input: $input) {
    refund {
      id status amount { amount currency } reason failureReason disputed providerRefundId
      payment { id amountRefunded { amount } }
      order { id status refundedTotal { amount } }
    }
    userErrors { field code message }
  }
}
"""


async def invoice_for(
    gql: GraphQLClient, staff: Account, order: PlacedOrder, *, issue: bool = True
) -> dict[str, Any]:
    data = (
        await gql(CREATE_INVOICE, {"input": {"orderId": order.gid, "issue": issue}}, token=staff.token)
    ).ok()
    payload = data["createInvoiceForOrder"]
    assert payload["userErrors"] == [], payload
    return payload["invoice"]


async def add_card(gql: GraphQLClient, owner: Account, token: str = "tok_visa") -> dict[str, Any]:
    data = (await gql(ADD_CARD, {"input": {"cardToken": token}}, token=owner.token)).ok()
    assert data["addPaymentMethod"]["userErrors"] == [], data
    return data["addPaymentMethod"]["paymentMethod"]


async def start_payment(gql: GraphQLClient, owner: Account, invoice_id: str) -> dict[str, Any]:
    data = (await gql(CREATE_INTENT, {"input": {"invoiceId": invoice_id}}, token=owner.token)).ok()
    assert data["createPaymentIntent"]["userErrors"] == [], data
    return data["createPaymentIntent"]["payment"]


async def pay(gql: GraphQLClient, owner: Account, invoice_id: str, card: str = "tok_visa") -> dict[str, Any]:
    """Card saved, intent created, confirmed: the confirmed payment."""
    method = await add_card(gql, owner, card)
    payment = await start_payment(gql, owner, invoice_id)
    data = (
        await gql(
            CONFIRM_INTENT,
            {"input": {"paymentId": payment["id"], "paymentMethodId": method["id"]}},
            token=owner.token,
        )
    ).ok()
    assert data["confirmPaymentIntent"]["userErrors"] == [], data
    return data["confirmPaymentIntent"]["payment"]
