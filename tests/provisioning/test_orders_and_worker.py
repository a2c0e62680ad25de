"""Paying an order starts the provisioning of its items; workers run the steps through the
provider adapter (SKIP LOCKED claims and leases), a takeover after an expired lease applies each
step's effect once, injected failures end in FAILED and a retry gets to ACTIVE, the order is
COMPLETED once all its requests are settled (ACTIVE, or a failed one deprovisioned), and refunding
all of it tears its services down."""

from __future__ import annotations

import asyncio

from models.orders import OrderStatus
from models.provisioning import ProvisioningStatus, StepName, StepStatus
from services.provisioning.provider import SimulatedProvider, StepCall, StepOutcome
from services.provisioning.worker import run_steps_once
from tests.billing.support import REQUEST_REFUND, invoice_for, pay
from tests.orders.conftest import CONFIRM, SUBMIT, line
from tests.provisioning.conftest import DEPROVISION, FAIL, RETRY, Cloud

S = ProvisioningStatus
ORDER_QUERY_IDS = "query($id: ID!) { order(id: $id) { provisioningRequests { id } } }"
ORDER_REQUESTS = """
query($id: ID!) {
  order(id: $id) {
    status
    provisioningRequests { status percent product { name } steps { status } order { number } }
  }
}
"""


async def test_confirming_a_payment_starts_provisioning_and_the_worker_completes_the_order(
    cloud: Cloud,
) -> None:
    shop = cloud.shop
    buyer = await shop.account()
    plain = await shop.product(300)
    order = await shop.place(buyer, line(cloud.product_id, 1), line(plain, 2), line(cloud.product_id, 1))
    await shop.move(SUBMIT, buyer, order["id"])
    paid = await shop.move(CONFIRM, shop.operator, order["id"])
    assert paid["order"]["status"] == "PROVISIONING", paid
    assert [h["to"] for h in paid["order"]["statusHistory"]][-2:] == ["PAID", "PROVISIONING"]
    data = (await shop.gql(ORDER_REQUESTS, {"id": order["id"]}, token=buyer.token)).ok()["order"]
    # One request per line of a product that needs provisioning; the plain product needs none.
    assert [(r["status"], r["product"]["name"]) for r in data["provisioningRequests"]] == [
        ("RUNNING", "Managed database"),
        ("RUNNING", "Managed database"),
    ]
    worker = cloud.worker()
    assert await run_steps_once(worker)
    assert (await shop.order_row(order["id"])).status == OrderStatus.PROVISIONING  # one of two is ACTIVE
    assert await run_steps_once(worker)
    assert not await run_steps_once(worker)
    data = (await shop.gql(ORDER_REQUESTS, {"id": order["id"]}, token=buyer.token)).ok()["order"]
    assert data["status"] == "COMPLETED"
    assert [(r["status"], r["percent"]) for r in data["provisioningRequests"]] == [("ACTIVE", 100)] * 2
    assert {s["status"] for r in data["provisioningRequests"] for s in r["steps"]} == {"COMPLETED"}


async def test_paying_an_invoice_starts_provisioning(cloud: Cloud) -> None:
    shop = cloud.shop
    buyer = await shop.account()
    order = await shop.place(buyer, line(cloud.product_id, 1))
    await shop.move(SUBMIT, buyer, order["id"])
    invoice = await invoice_for(shop.gql, shop.admin, _Placed(order["id"]))  # type: ignore[arg-type]
    await pay(shop.gql, buyer, invoice["id"])
    assert (await shop.order_row(order["id"])).status == OrderStatus.PROVISIONING
    data = (await shop.gql(ORDER_REQUESTS, {"id": order["id"]}, token=buyer.token)).ok()["order"]
    assert [r["status"] for r in data["provisioningRequests"]] == ["RUNNING"]


async def test_a_failed_request_holds_the_order_until_it_is_deprovisioned(cloud: Cloud) -> None:
    shop = cloud.shop
    buyer = await shop.account()
    order = await shop.place(buyer, line(cloud.product_id, 1), line(cloud.product_id, 1))
    await shop.move(SUBMIT, buyer, order["id"])
    await shop.move(CONFIRM, shop.operator, order["id"])
    worker = cloud.worker(SimulatedProvider(step_seconds=0, fail_steps=frozenset({StepName.DEPLOY})))
    assert await run_steps_once(worker) and await run_steps_once(worker)
    assert (await shop.order_row(order["id"])).status == OrderStatus.PROVISIONING  # both FAILED: retry?
    requests = (await shop.gql(ORDER_QUERY_IDS, {"id": order["id"]}, token=buyer.token)).ok()
    first, second = (r["id"] for r in requests["order"]["provisioningRequests"])
    assert (await cloud.act(RETRY, buyer, first))["request"]["status"] == "RUNNING"
    assert await run_steps_once(cloud.worker())
    assert (await shop.order_row(order["id"])).status == OrderStatus.PROVISIONING  # the second still FAILED
    assert (await cloud.act(DEPROVISION, buyer, second))["request"]["status"] == "DEPROVISIONING"
    assert await run_steps_once(cloud.worker())  # releases it: nothing left to wait for
    data = (await shop.gql(ORDER_REQUESTS, {"id": order["id"]}, token=buyer.token)).ok()["order"]
    assert data["status"] == "COMPLETED"
    assert [r["status"] for r in data["provisioningRequests"]] == ["ACTIVE", "DEPROVISIONED"]


async def test_refunding_all_of_an_order_deprovisions_its_services(cloud: Cloud) -> None:
    shop = cloud.shop
    buyer = await shop.account()
    order = await shop.place(buyer, line(cloud.product_id, 1), line(cloud.product_id, 1))
    await shop.move(SUBMIT, buyer, order["id"])
    invoice = await invoice_for(shop.gql, shop.admin, _Placed(order["id"]))  # type: ignore[arg-type]
    payment = await pay(shop.gql, buyer, invoice["id"])
    worker = cloud.worker()
    assert await run_steps_once(worker)  # one ACTIVE, the other still RUNNING
    total = payment["amount"]["amount"]
    partial = (
        await shop.gql(
            REQUEST_REFUND, {"input": {"paymentId": payment["id"], "amount": 1}}, token=buyer.token
        )
    ).ok()
    assert partial["requestRefund"]["refund"]["order"]["status"] == "PARTIALLY_REFUNDED"
    data = (await shop.gql(ORDER_REQUESTS, {"id": order["id"]}, token=buyer.token)).ok()["order"]
    assert sorted(r["status"] for r in data["provisioningRequests"]) == ["ACTIVE", "RUNNING"]  # kept
    rest = {"paymentId": payment["id"], "amount": total - 1}
    full = (await shop.gql(REQUEST_REFUND, {"input": rest}, token=buyer.token)).ok()["requestRefund"]
    assert full["userErrors"] == [] and full["refund"]["order"]["status"] == "REFUNDED", full
    data = (await shop.gql(ORDER_REQUESTS, {"id": order["id"]}, token=buyer.token)).ok()["order"]
    assert [r["status"] for r in data["provisioningRequests"]] == ["DEPROVISIONING"] * 2
    assert await run_steps_once(worker) and await run_steps_once(worker)
    assert not await run_steps_once(worker)
    data = (await shop.gql(ORDER_REQUESTS, {"id": order["id"]}, token=buyer.token)).ok()["order"]
    assert (data["status"], [r["status"] for r in data["provisioningRequests"]]) == (
        "REFUNDED",
        ["DEPROVISIONED"] * 2,
    )


class _Placed:
    def __init__(self, order_gid: str) -> None:
        self.gid = order_gid


async def test_orders_without_provisioned_products_keep_their_flow(cloud: Cloud) -> None:
    shop = cloud.shop
    buyer = await shop.account()
    order = await shop.place(buyer, line(await shop.product(300), 1))
    await shop.move(SUBMIT, buyer, order["id"])
    assert (await shop.move(CONFIRM, shop.operator, order["id"]))["order"]["status"] == "PAID"
    data = (await shop.gql(ORDER_REQUESTS, {"id": order["id"]}, token=buyer.token)).ok()["order"]
    assert data["provisioningRequests"] == []


async def test_two_workers_never_run_the_same_request(cloud: Cloud) -> None:
    owner = await cloud.shop.account()
    requests = [await cloud.request(owner, status=S.RUNNING) for _ in range(6)]
    provider = SimulatedProvider(step_seconds=0.02)
    first, second = cloud.worker(provider, name="w1"), cloud.worker(provider, name="w2")
    # Both claim at the same time: SKIP LOCKED hands each a different request.
    claims = await asyncio.gather(first.claim(), second.claim())
    assert claims[0] is not None and claims[1] is not None
    assert claims[0].request_id != claims[1].request_id
    await asyncio.gather(first.run_request(claims[0]), second.run_request(claims[1]))
    first.start()
    second.start()
    try:
        for _ in range(200):
            rows = [await cloud.row(r) for r in requests]
            if all(r.status == S.ACTIVE for r in rows):
                break
            await asyncio.sleep(0.05)
        assert all(r.status == S.ACTIVE for r in rows)
    finally:
        await first.stop()
        await second.stop()
    # Every step ran once, and the provider applied each effect once.
    for request in requests:
        assert [s.runs for s in await cloud.steps(request)] == [1] * 5
    assert set(provider.effects.values()) == {1} and len(provider.effects) == 6 * 5
    assert first.steps_completed > 0 and second.steps_completed > 0


class DiesAfterEffect(SimulatedProvider):
    """Applies DEPLOY's effect, then its worker dies (cancelled) before recording it."""

    def __init__(self) -> None:
        super().__init__(step_seconds=0)
        self.died = asyncio.Event()

    async def run_step(self, call: StepCall) -> StepOutcome:
        outcome = await super().run_step(call)
        if call.step == StepName.DEPLOY and not self.died.is_set():
            self.died.set()
            await asyncio.sleep(3600)  # the worker is stuck here until it is killed
        return outcome


async def test_a_lease_that_expires_mid_step_is_taken_over_and_each_effect_applies_once(cloud: Cloud) -> None:
    owner = await cloud.shop.account()
    request = await cloud.request(owner, status=S.RUNNING)
    provider = DiesAfterEffect()
    doomed = cloud.worker(provider, lease_seconds=0.6, name="doomed")
    task = asyncio.create_task(run_steps_once(doomed))
    await asyncio.wait_for(provider.died.wait(), 10)
    task.cancel()  # killed mid-step: DEPLOY's effect is applied, its completion never recorded
    steps = await cloud.steps(request)
    assert [s.status for s in steps][3] == StepStatus.RUNNING
    rescuer = cloud.worker(provider, lease_seconds=5, name="rescuer")
    assert await rescuer.claim() is None  # the lease still holds
    await asyncio.sleep(0.8)
    assert await run_steps_once(rescuer)
    row = await cloud.row(request)
    assert row.status == S.ACTIVE and row.lease_owner is None
    steps = await cloud.steps(request)
    assert [s.runs for s in steps] == [1, 1, 1, 2, 1]  # DEPLOY started twice ...
    assert set(provider.effects.values()) == {1} and len(provider.effects) == 5  # ... applied once


async def test_a_worker_whose_lease_was_taken_over_throws_its_result_away(cloud: Cloud) -> None:
    owner = await cloud.shop.account()
    request = await cloud.request(owner, status=S.RUNNING)
    slow = cloud.worker(SimulatedProvider(step_seconds=0.5), lease_seconds=30, name="slow")
    claim = await slow.claim()
    assert claim is not None
    running = asyncio.create_task(slow.run_request(claim))
    await asyncio.sleep(0.2)
    await cloud.expire_leases()
    fast = cloud.worker(SimulatedProvider(step_seconds=0), name="fast")
    assert await run_steps_once(fast)
    await running  # finds the lease gone and stops
    row = await cloud.row(request)
    assert row.status == S.ACTIVE and slow.steps_completed == 0


async def test_injected_failure_then_retry_gets_to_active(cloud: Cloud) -> None:
    owner = await cloud.shop.account()
    request = await cloud.request(
        owner, status=S.RUNNING, parameters={"simulate": {"failStep": "CONFIGURE", "failAttempts": 1}}
    )
    worker = cloud.worker()
    assert await run_steps_once(worker)
    row = await cloud.row(request)
    assert row.status == S.FAILED and row.failure_reason and "CONFIGURE" in row.failure_reason
    steps = await cloud.steps(request)
    assert [s.status for s in steps] == [
        StepStatus.COMPLETED,
        StepStatus.COMPLETED,
        StepStatus.FAILED,
        StepStatus.PENDING,
        StepStatus.PENDING,
    ]
    assert "simulated" in (steps[2].message or "")
    assert not await run_steps_once(worker)  # FAILED is not runnable
    retried = await cloud.act(RETRY, owner, request)
    assert retried["request"]["attempt"] == 2
    assert await run_steps_once(worker)
    row = await cloud.row(request)
    assert (row.status, row.percent, row.failure_count) == (S.ACTIVE, 100, 1)
    assert [t[1] for t in await cloud.trail(request)] == ["PENDING", "RUNNING", "FAILED", "RUNNING", "ACTIVE"]


async def test_settings_inject_failures_too(cloud: Cloud) -> None:
    owner = await cloud.shop.account()
    request = await cloud.request(owner, status=S.RUNNING)
    worker = cloud.worker(SimulatedProvider(step_seconds=0, fail_steps=frozenset({StepName.VERIFY})))
    assert await run_steps_once(worker)
    assert (await cloud.row(request)).status == S.FAILED


async def test_deprovisioning_releases_the_service(cloud: Cloud) -> None:
    owner = await cloud.shop.account()
    request = await cloud.request(owner, status=S.RUNNING)
    worker = cloud.worker()
    assert await run_steps_once(worker)
    assert (await cloud.row(request)).instance_id
    assert (await cloud.act(DEPROVISION, owner, request))["request"]["status"] == "DEPROVISIONING"
    assert await run_steps_once(worker)
    row = await cloud.row(request)
    assert row.status == S.DEPROVISIONED and row.finished_at is not None


async def test_workers_start_pending_requests_only_when_told_to(cloud: Cloud) -> None:
    owner = await cloud.shop.account()
    request = await cloud.request(owner)
    manual = await cloud.request(owner, manual=True)
    assert not await run_steps_once(cloud.worker())  # PENDING waits for a service to start it
    assert await run_steps_once(cloud.worker(auto_start=True, name="starter"))
    assert not await run_steps_once(cloud.worker(auto_start=True))  # the manual one stays PENDING
    assert (await cloud.row(request)).status == S.ACTIVE and (await cloud.row(manual)).status == S.PENDING
    assert await cloud.trail(request) == [
        (None, "PENDING", "test"),
        ("PENDING", "RUNNING", "worker"),
        ("RUNNING", "ACTIVE", "worker"),
    ]


async def test_manual_requests_are_left_to_people(cloud: Cloud) -> None:
    owner = await cloud.shop.account()
    await cloud.request(owner, status=S.RUNNING, manual=True)
    assert not await run_steps_once(cloud.worker())


async def test_heartbeats_and_the_worker_status(cloud: Cloud) -> None:
    shop = cloud.shop
    owner = await shop.account()
    for _ in range(2):
        await cloud.request(owner, status=S.RUNNING)
    worker = cloud.worker(name="host-a:42:abcd")
    await worker.beat()
    query = """{ provisioningWorkerStatus {
        workers { id hostname pid stepsCompleted } queueDepth oldestWaitingSince inProgress } }"""
    status = (await shop.gql(query, token=shop.admin.token)).ok()["provisioningWorkerStatus"]
    assert status["workers"] == [
        {"id": "host-a:42:abcd", "hostname": "host-a", "pid": 42, "stepsCompleted": 0}
    ]
    assert (status["queueDepth"], status["inProgress"]) == (2, 0) and status["oldestWaitingSince"]
    assert await worker.claim() is not None
    status = (await shop.gql(query, token=shop.admin.token)).ok()["provisioningWorkerStatus"]
    assert (status["queueDepth"], status["inProgress"]) == (1, 1)
    await worker.stop()  # its heartbeat row goes
    status = (await shop.gql(query, token=shop.admin.token)).ok()["provisioningWorkerStatus"]
    assert status["workers"] == []
    assert (await shop.gql(query, token=owner.token)).error_codes == ["FORBIDDEN"]


async def test_catalog_staff_mark_products_as_needing_provisioning(cloud: Cloud) -> None:
    shop = cloud.shop
    create = """mutation($input: CreateProductInput!) {
      createProduct(input: $input) { product { id requiresProvisioning } userErrors { code } } }"""
    update = """mutation($input: UpdateProductInput!) {
      updateProduct(input: $input) { product { requiresProvisioning } userErrors { code } } }"""
    product = {"sku": "vm-1", "name": "VM", "basePrice": {"amount": 900, "currency": "EUR"}}
    made = (await shop.gql(create, {"input": product}, token=shop.admin.token)).ok()["createProduct"]
    assert made["product"]["requiresProvisioning"] is False
    flagged = (
        await shop.gql(
            create,
            {"input": {**product, "sku": "vm-2", "requiresProvisioning": True}},
            token=shop.admin.token,
        )
    ).ok()
    assert flagged["createProduct"]["product"]["requiresProvisioning"] is True
    changed = await shop.gql(
        update, {"input": {"id": made["product"]["id"], "requiresProvisioning": True}}, token=shop.admin.token
    )
    assert changed.ok()["updateProduct"]["product"]["requiresProvisioning"] is True


async def test_a_request_failed_mid_step_frees_its_worker_at_the_next_renewal(cloud: Cloud) -> None:
    owner = await cloud.shop.account()
    request = await cloud.request(owner, status=S.RUNNING, parameters={"simulate": {"stepSeconds": 30}})
    worker = cloud.worker(lease_seconds=0.6)
    claim = await worker.claim()
    assert claim is not None
    running = asyncio.create_task(worker.run_request(claim))
    await asyncio.sleep(0.3)
    failed = await cloud.act(FAIL, cloud.shop.operator, request, reason="cancelled by the operator")
    assert failed["request"]["status"] == "FAILED"
    await asyncio.wait_for(running, 3)  # not the step's 30 seconds
    row = await cloud.row(request)
    assert (row.status, row.failure_reason) == (S.FAILED, "cancelled by the operator")


async def test_two_workers_finishing_an_orders_last_requests_together_complete_it(cloud: Cloud) -> None:
    shop = cloud.shop
    buyer = await shop.account()
    for _ in range(3):
        order = await shop.place(buyer, line(cloud.product_id, 1), line(cloud.product_id, 1))
        await shop.move(SUBMIT, buyer, order["id"])
        await shop.move(CONFIRM, shop.operator, order["id"])
        provider = SimulatedProvider(step_seconds=0.01)
        first, second = cloud.worker(provider, name="a"), cloud.worker(provider, name="b")
        claims = await asyncio.gather(first.claim(), second.claim())
        assert claims[0] is not None and claims[1] is not None
        await asyncio.gather(first.run_request(claims[0]), second.run_request(claims[1]))
        assert (await shop.order_row(order["id"])).status == OrderStatus.COMPLETED
