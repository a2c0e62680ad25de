"""Order test helpers: a shop (tenant, accounts, products inserted with the models), the GraphQL
documents the tests share, and readers of what the database holds."""

from __future__ import annotations

import base64
import itertools
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select, update

from core.permissions import Role
from core.scope import TenantScope
from core.settings import Settings
from models.catalog import Product, ProductStatus
from models.counters import TenantCounter
from models.db import Database
from models.events import OutboxEvent
from models.identity.accounts import Tenant
from models.orders import CartItem, Order, OrderItem, OrderStatusChange
from server.runtime import Runtime
from services.identity.bootstrap import PLATFORM_TENANT_SLUG
from services.orders.states import ORDER_STATUS_CHANGED
from tests.conftest import TEST_SIGNING_KEY
from tests.support.graphql import GraphQLClient, GraphQLResult
from tests.support.identity import Account, Identity, global_id, quick_account
from tests.support.live_server import LiveServer, LiveServers, server_env

_numbers = itertools.count(1)
ALL = TenantScope.all_tenants()

ADDRESS: dict[str, Any] = {
    "name": "Ada Lovelace",
    "line1": "1 Analytical Street",
    "city": "London",
    "postalCode": "EC1A 1BB",
    "country": "GB",
}

ORDER_FIELDS = """
  id number status currency notes
  subtotal { amount currency } discountTotal { amount currency } taxTotal { amount currency }
  shippingTotal { amount currency } total { amount currency } refundedTotal { amount currency }
  shippingAddress { name company line1 line2 city state postalCode country phone }
  billingAddress { name line1 city postalCode country }
  user { id email }
  items {
    position sku name quantity attributes
    unitPrice { amount currency } subtotal { amount } discount { amount } tax { amount } total { amount }
    product { id name }
  }
  statusHistory { from to actor reason actorUser { id } at }
  createdAt updatedAt paidAt cancelledAt
"""

CREATE_ORDER = f"""
mutation CreateOrder($input: CreateOrderInput!) {{
  createOrder(input: $input) {{
    replayed
    order {{ {ORDER_FIELDS} }}
    userErrors {{ field code message }}
  }}
}}
"""

# A small document for tests that only need orders to exist (validation cost grows with the document).
CREATE_ORDER_BRIEF = """
mutation CreateOrder($input: CreateOrderInput!) {
  createOrder(input: $input) { order { id number status total { amount } } userErrors { field code } }
}
"""


def transition_mutation(name: str) -> str:
    return f"""
mutation Move($input: OrderTransitionInput!) {{
  {name}(input: $input) {{
    replayed
    order {{
      id number status paidAt cancelledAt
      statusHistory {{ from to actor reason actorUser {{ id }} }}
    }}
    userErrors {{ field code message }}
  }}
}}
"""


SUBMIT = transition_mutation("submitOrder")
SUBMIT_BRIEF = "mutation($input: OrderTransitionInput!) { submitOrder(input: $input) { order { status } } }"
CONFIRM = transition_mutation("confirmPayment")
CANCEL = transition_mutation("cancelOrder")
START_PROVISIONING = transition_mutation("startProvisioning")
COMPLETE = transition_mutation("completeOrder")

ORDER_QUERY = f"query Order($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"


def gid(type_name: str, raw: uuid.UUID) -> str:
    return global_id(type_name, raw)


def line(product: uuid.UUID, quantity: int, attributes: dict[str, Any] | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"productId": gid("Product", product), "quantity": quantity}
    if attributes is not None:
        item["attributes"] = attributes
    return item


def order_input(*items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"items": list(items), "shippingAddress": ADDRESS, **extra}


@dataclass
class Shop:
    """A tenant with a signed-in admin, a platform admin to run the service-only steps
    (confirmPayment), and helpers for its accounts, products and rows."""

    runtime: Runtime
    gql: GraphQLClient
    slug: str
    tenant_id: uuid.UUID
    admin: Account
    operator: Account
    accounts: dict[str, Account] = field(default_factory=dict)

    @property
    def db(self) -> Database:
        return self.runtime.db

    async def account(self, *roles: Role) -> Account:
        return await quick_account(self.runtime, self.slug, *roles)

    async def product(
        self,
        price: int = 1000,
        *,
        name: str | None = None,
        sale: int | None = None,
        currency: str = "EUR",
        status: ProductStatus = ProductStatus.ACTIVE,
        stock: int | None = None,
    ) -> uuid.UUID:
        n = next(_numbers)
        row = Product(
            id=uuid.uuid4(),
            tenant_id=self.tenant_id,
            sku=f"SKU-{n}",
            name=name or f"Product {n}",
            base_price=price,
            sale_price=sale,
            currency=currency,
            status=status,
            stock_quantity=stock,
            attributes={},
            image_urls=[],
        )
        async with self.db.transaction(TenantScope.of(self.tenant_id)) as session:
            session.add(row)
        return row.id

    async def settings(self, **settings: Any) -> None:
        async with self.db.transaction(ALL) as session:
            await session.execute(update(Tenant).where(Tenant.id == self.tenant_id).values(settings=settings))

    async def stock(self, product_id: uuid.UUID) -> int | None:
        async with self.db.session(ALL) as session:
            return await session.scalar(select(Product.stock_quantity).where(Product.id == product_id))

    async def set_product(self, product_id: uuid.UUID, **values: Any) -> None:
        async with self.db.transaction(ALL) as session:
            await session.execute(update(Product).where(Product.id == product_id).values(**values))

    async def order_row(self, order_gid: str) -> Order:
        async with self.db.session(ALL) as session:
            order = await session.scalar(select(Order).where(Order.id == uuid_of(order_gid)))
        assert order is not None
        return order

    async def counts(self) -> dict[str, int]:
        """Rows of every order table of this tenant, and the order counter."""
        async with self.db.session(ALL) as session:
            result = {}
            for name, model in (
                ("orders", Order),
                ("items", OrderItem),
                ("history", OrderStatusChange),
                ("cart_items", CartItem),
            ):
                result[name] = int(
                    await session.scalar(
                        select(func.count()).select_from(model).where(model.tenant_id == self.tenant_id)
                    )
                    or 0
                )
            result["events"] = int(
                await session.scalar(
                    select(func.count())
                    .select_from(OutboxEvent)
                    .where(OutboxEvent.tenant_id == self.tenant_id, OutboxEvent.topic == ORDER_STATUS_CHANGED)
                )
                or 0
            )
            result["counter"] = int(
                await session.scalar(
                    select(TenantCounter.value).where(
                        TenantCounter.tenant_id == self.tenant_id, TenantCounter.name == "order"
                    )
                )
                or 0
            )
        return result

    async def events(self) -> list[dict[str, Any]]:
        async with self.db.session(ALL) as session:
            rows = await session.scalars(
                select(OutboxEvent.payload)
                .where(OutboxEvent.tenant_id == self.tenant_id, OutboxEvent.topic == ORDER_STATUS_CHANGED)
                .order_by(OutboxEvent.seq)
            )
            return list(rows)

    async def create_order(self, account: Account, input: dict[str, Any], **kwargs: Any) -> GraphQLResult:
        return await self.gql(CREATE_ORDER, {"input": input}, token=account.token, **kwargs)

    async def place(self, account: Account, *items: dict[str, Any], **extra: Any) -> dict[str, Any]:
        """Creates an order and returns it, asserting there were no errors."""
        payload = (await self.create_order(account, order_input(*items, **extra))).ok()["createOrder"]
        assert payload["userErrors"] == [], payload
        order: dict[str, Any] = payload["order"]
        return order

    async def quick(self, account: Account, *items: dict[str, Any]) -> dict[str, Any]:
        """Creates an order, returning only its id, number, status and total."""
        result = await self.gql(CREATE_ORDER_BRIEF, {"input": order_input(*items)}, token=account.token)
        payload = result.ok()["createOrder"]
        assert payload["userErrors"] == [], payload
        order: dict[str, Any] = payload["order"]
        return order

    async def move(self, document: str, account: Account, order_gid: str, **extra: Any) -> dict[str, Any]:
        result = await self.gql(document, {"input": {"id": order_gid, **extra}}, token=account.token)
        payload: dict[str, Any] = next(iter(result.ok().values()))
        return payload


def uuid_of(global_id_value: str) -> uuid.UUID:
    return uuid.UUID(base64.b64decode(global_id_value).decode().split(":", 1)[1])


async def new_shop(runtime: Runtime, gql: GraphQLClient, identity: Identity, slug: str | None = None) -> Shop:
    tenant = await identity.tenant(slug or f"shop-{next(_numbers)}")
    admin = await quick_account(runtime, tenant.slug, Role.TENANT_ADMIN)
    operator = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    return Shop(runtime, gql, tenant.slug, tenant.id, admin, operator)


@pytest.fixture
async def shop(runtime: Runtime, gql: GraphQLClient, identity: Identity) -> Shop:
    return await new_shop(runtime, gql, identity)


def amount(money: dict[str, Any]) -> int:
    value: int = money["amount"]
    return value


@pytest.fixture(scope="module")
async def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    """A real server process for the module's websocket tests."""
    env = server_env(settings.database_url, settings.broadcast_url, TEST_SIGNING_KEY)
    pool = LiveServers(tmp_path_factory.mktemp("order-servers"), env)
    try:
        (started,) = await pool.start(1)
        yield started
    finally:
        await pool.stop_all()
