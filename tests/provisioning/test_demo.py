"""Demo provisioning: each demo tenant sells a service that needs provisioning and its demo user
has one RUNNING request of it; seeding again adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from core.scope import TenantScope
from demo import DEMO_PASSWORD, DEMO_TENANTS, seed_demo
from models.provisioning import ProvisioningRequest
from server.runtime import Runtime
from tests.support.graphql import GraphQLClient
from tests.support.identity import Identity

MINE = """{ provisioningRequests { nodes {
  status percent parameters product { sku requiresProvisioning } owner { email } steps { status } } } }"""


async def test_demo_provisioning_is_seeded_once(
    runtime: Runtime, gql: GraphQLClient, identity: Identity
) -> None:
    await seed_demo(runtime.db)
    await seed_demo(runtime.db)
    async with runtime.db.session(TenantScope.all_tenants()) as session:
        assert await session.scalar(select(func.count()).select_from(ProvisioningRequest)) == len(
            DEMO_TENANTS
        )
    for slug, _, _ in DEMO_TENANTS:
        login = (await identity.login(slug, f"user@{slug}.example", DEMO_PASSWORD)).ok()["login"]
        (request,) = (await gql(MINE, token=login["accessToken"])).ok()["provisioningRequests"]["nodes"]
        assert (request["status"], request["percent"]) == ("RUNNING", 20)
        assert request["product"] == {"sku": "SV-MANAGED-DB", "requiresProvisioning": True}
        assert request["owner"] == {"email": f"user@{slug}.example"}
        assert [s["status"] for s in request["steps"]] == ["COMPLETED"] + ["PENDING"] * 4
        assert request["parameters"]["region"] == "eu-central"
