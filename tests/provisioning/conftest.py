"""Provisioning test helpers: a shop with products that need provisioning, requests made through
the services' own helpers, workers of the test's own (the shared app runs none), the GraphQL
documents the tests share and readers of what the database holds."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, update

from core.scope import TenantScope
from models.catalog import Product
from models.provisioning import (
    ProvisioningRequest,
    ProvisioningStatus,
    ProvisioningStep,
    ProvisioningTransition,
)
from server.runtime import Runtime
from services.provisioning.provider import SimulatedProvider
from services.provisioning.requests import new_request
from services.provisioning.states import move
from services.provisioning.worker import ProvisioningWorker
from tests.orders.conftest import Shop, gid, new_shop, uuid_of
from tests.support.graphql import GraphQLClient
from tests.support.identity import Account, Identity

ALL = TenantScope.all_tenants()

REQUEST_FIELDS = """
  id status percent attempt manual parameters failureReason instanceId
  steps { position name status startedAt finishedAt message }
  auditTrail { from to actor reason actorUser { id } }
  owner { email } order { number } product { name }
"""
REQUEST_QUERY = f"query($id: ID!) {{ provisioningRequest(id: $id) {{ {REQUEST_FIELDS} }} }}"


def action_mutation(name: str) -> str:
    return f"""
mutation($input: ProvisioningTransitionInput!) {{
  {name}(input: $input) {{
    request {{ id status percent attempt failureReason steps {{ name status message }} }}
    userErrors {{ field code message }}
  }}
}}
"""


START = action_mutation("startProvisioningRequest")
ADVANCE = action_mutation("advanceProvisioningRequest")
FAIL = action_mutation("failProvisioningRequest")
RETRY = action_mutation("retryProvisioningRequest")
SUSPEND = action_mutation("suspendProvisioningRequest")
REACTIVATE = action_mutation("reactivateProvisioningRequest")
COMPLETE_MANUAL = action_mutation("completeManualProvisioning")
DEPROVISION = action_mutation("deprovisionProvisioningRequest")
CREATE = """
mutation($input: CreateProvisioningRequestInput!) {
  createProvisioningRequest(input: $input) {
    request { id status manual parameters steps { name status } auditTrail { from to actor } }
    userErrors { field code message }
  }
}
"""


@dataclass
class Cloud:
    """A shop whose tenant sells a service that needs provisioning."""

    shop: Shop
    product_id: uuid.UUID

    @property
    def runtime(self) -> Runtime:
        return self.shop.runtime

    @property
    def gql(self) -> GraphQLClient:
        return self.shop.gql

    async def request(
        self,
        owner: Account,
        *,
        status: ProvisioningStatus = ProvisioningStatus.PENDING,
        parameters: dict[str, Any] | None = None,
        manual: bool = False,
    ) -> str:
        """A request of ``owner`` made the way the services make one, moved to ``status``
        (through the state machine) as a service would; its global id."""
        async with self.shop.db.transaction(TenantScope.of(self.shop.tenant_id)) as session:
            request = new_request(
                session,
                tenant_id=self.shop.tenant_id,
                user_id=owner.user_id,
                actor="test",
                actor_user_id=None,
                product_id=self.product_id,
                parameters=parameters,
                manual=manual,
            )
            path = {
                ProvisioningStatus.PENDING: [],
                ProvisioningStatus.RUNNING: [ProvisioningStatus.RUNNING],
                ProvisioningStatus.FAILED: [ProvisioningStatus.RUNNING, ProvisioningStatus.FAILED],
                ProvisioningStatus.ACTIVE: [ProvisioningStatus.RUNNING, ProvisioningStatus.ACTIVE],
                ProvisioningStatus.SUSPENDED: [
                    ProvisioningStatus.RUNNING,
                    ProvisioningStatus.ACTIVE,
                    ProvisioningStatus.SUSPENDED,
                ],
                ProvisioningStatus.DEPROVISIONING: [
                    ProvisioningStatus.RUNNING,
                    ProvisioningStatus.ACTIVE,
                    ProvisioningStatus.DEPROVISIONING,
                ],
                ProvisioningStatus.DEPROVISIONED: [ProvisioningStatus.DEPROVISIONED],
            }[status]
            for target in path:
                move(session, request, target, actor="test", reason="set up by the test")
        return gid("ProvisioningRequest", request.id)

    async def row(self, request_gid: str) -> ProvisioningRequest:
        async with self.shop.db.session(ALL) as session:
            found = await session.get(ProvisioningRequest, uuid_of(request_gid))
        assert found is not None
        return found

    async def steps(self, request_gid: str) -> list[ProvisioningStep]:
        async with self.shop.db.session(ALL) as session:
            return list(
                await session.scalars(
                    select(ProvisioningStep)
                    .where(ProvisioningStep.request_id == uuid_of(request_gid))
                    .order_by(ProvisioningStep.position)
                )
            )

    async def trail(self, request_gid: str) -> list[tuple[str | None, str, str]]:
        async with self.shop.db.session(ALL) as session:
            rows = await session.scalars(
                select(ProvisioningTransition)
                .where(ProvisioningTransition.request_id == uuid_of(request_gid))
                .order_by(ProvisioningTransition.created_at)
            )
            return [(r.from_status and r.from_status.value, r.to_status.value, r.actor) for r in rows]

    async def act(self, document: str, account: Account, request_gid: str, **extra: Any) -> dict[str, Any]:
        result = await self.gql(document, {"input": {"id": request_gid, **extra}}, token=account.token)
        payload: dict[str, Any] = next(iter(result.ok().values()))
        return payload

    async def expire_leases(self) -> None:
        """Every lease ran out (as if its worker had died long ago)."""
        async with self.shop.db.transaction(ALL) as session:
            await session.execute(
                update(ProvisioningRequest)
                .where(ProvisioningRequest.lease_owner.is_not(None))
                .values(lease_expires_at=ProvisioningRequest.created_at)
            )

    def worker(
        self,
        provider: SimulatedProvider | None = None,
        *,
        lease_seconds: float = 30.0,
        name: str | None = None,
        auto_start: bool = False,
    ) -> ProvisioningWorker:
        return ProvisioningWorker(
            self.shop.db,
            provider or SimulatedProvider(step_seconds=0),
            poll_seconds=0.05,
            lease_seconds=lease_seconds,
            worker_id=name,
            on_events=self.runtime.dispatcher.wake,
            auto_start=auto_start,
        )


async def new_cloud(runtime: Runtime, gql: GraphQLClient, identity: Identity) -> Cloud:
    shop = await new_shop(runtime, gql, identity)
    product_id = await shop.product(2500, name="Managed database")
    async with shop.db.transaction(ALL) as session:
        await session.execute(
            update(Product).where(Product.id == product_id).values(requires_provisioning=True)
        )
    return Cloud(shop, product_id)


@pytest.fixture
async def cloud(runtime: Runtime, gql: GraphQLClient, identity: Identity) -> Cloud:
    return await new_cloud(runtime, gql, identity)
