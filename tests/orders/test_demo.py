"""Demo orders: each demo tenant's user has one PENDING and one PAID order, placed from the demo
catalog through the order service, and seeding again adds nothing."""

from __future__ import annotations

from sqlalchemy import select

from core.scope import TenantScope
from demo import DEMO_PASSWORD, DEMO_TENANTS, seed_demo
from models.catalog import Product, ProductStatus
from models.orders import Order
from server.runtime import Runtime
from tests.support.graphql import GraphQLClient
from tests.support.identity import Identity

DEMO_ORDERS = """
{
  orders(orderBy: {field: NUMBER, direction: ASC}) {
    totalCount
    nodes {
      number status user { email }
      total { amount currency }
      items { sku quantity product { sku } }
      statusHistory { from to actor }
    }
  }
}
"""


async def test_demo_orders_are_seeded_once(runtime: Runtime, gql: GraphQLClient, identity: Identity) -> None:
    await seed_demo(runtime.db)
    async with runtime.db.session(TenantScope.all_tenants()) as session:
        first = sorted(
            (o.tenant_id, o.number, o.status, o.total) for o in await session.scalars(select(Order))
        )
    await seed_demo(runtime.db)
    async with runtime.db.session(TenantScope.all_tenants()) as session:
        again = sorted(
            (o.tenant_id, o.number, o.status, o.total) for o in await session.scalars(select(Order))
        )
        sellable = {
            p.sku
            for p in await session.scalars(select(Product).where(Product.status == ProductStatus.ACTIVE))
        }
    assert again == first
    assert len(first) == 2 * len(DEMO_TENANTS)

    for slug, _, _ in DEMO_TENANTS:
        login = (await identity.login(slug, f"user@{slug}.example", DEMO_PASSWORD)).ok()["login"]
        orders = (await gql(DEMO_ORDERS, token=login["accessToken"])).ok()["orders"]
        assert orders["totalCount"] == 2
        pending, paid = orders["nodes"]
        assert (pending["number"], pending["status"]) == ("ORD-000001", "PENDING")
        assert (paid["number"], paid["status"]) == ("ORD-000002", "PAID")
        for order in (pending, paid):
            assert order["user"] == {"email": f"user@{slug}.example"}
            assert order["total"]["amount"] > 0
            assert order["items"] and all(
                i["sku"] in sellable and i["product"]["sku"] == i["sku"] for i in order["items"]
            )
        assert [(h["from"], h["to"]) for h in paid["statusHistory"]] == [
            (None, "PENDING"),
            ("PENDING", "AWAITING_PAYMENT"),
            ("AWAITING_PAYMENT", "PAID"),
        ]
        assert {h["actor"] for h in paid["statusHistory"]} == {"demo"}
