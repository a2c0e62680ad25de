"""Every provisioning transition, legal and illegal, and who may make it: service principals and
platform admins start, advance and fail; owners and staff retry, suspend, reactivate, complete
manual requests and deprovision. An illegal move is a userError INVALID_TRANSITION and changes
nothing."""

from __future__ import annotations

import httpx
import pytest

from core.permissions import Role
from models.provisioning import ProvisioningStatus
from services.identity.bootstrap import PLATFORM_TENANT_SLUG
from tests.orders.conftest import gid, new_shop
from tests.provisioning.conftest import (
    ADVANCE,
    COMPLETE_MANUAL,
    CREATE,
    DEPROVISION,
    FAIL,
    REACTIVATE,
    REQUEST_QUERY,
    RETRY,
    START,
    SUSPEND,
    Cloud,
)
from tests.support.api_keys import create_client, token_of
from tests.support.identity import Identity, quick_account

S = ProvisioningStatus
SERVICE_ACTIONS = {"start": START, "advance": ADVANCE, "fail": FAIL}
OWNER_ACTIONS = {
    "retry": RETRY,
    "suspend": SUSPEND,
    "reactivate": REACTIVATE,
    "deprovision": DEPROVISION,
}
# (action, from) -> the status after it; every other pair is INVALID_TRANSITION.
LEGAL: dict[tuple[str, S], S] = {
    ("start", S.PENDING): S.RUNNING,
    ("advance", S.RUNNING): S.RUNNING,
    ("fail", S.PENDING): S.FAILED,
    ("fail", S.RUNNING): S.FAILED,
    ("retry", S.FAILED): S.RUNNING,
    ("suspend", S.ACTIVE): S.SUSPENDED,
    ("reactivate", S.SUSPENDED): S.ACTIVE,
    ("deprovision", S.PENDING): S.DEPROVISIONED,
    ("deprovision", S.RUNNING): S.DEPROVISIONING,
    ("deprovision", S.ACTIVE): S.DEPROVISIONING,
    ("deprovision", S.SUSPENDED): S.DEPROVISIONING,
    ("deprovision", S.FAILED): S.DEPROVISIONING,
}


@pytest.mark.parametrize("action", [*SERVICE_ACTIONS, *OWNER_ACTIONS])
async def test_every_status_against_every_action(cloud: Cloud, action: str) -> None:
    owner = await cloud.shop.account()
    document = {**SERVICE_ACTIONS, **OWNER_ACTIONS}[action]
    caller = cloud.shop.operator if action in SERVICE_ACTIONS else owner
    for status in S:
        request = await cloud.request(owner, status=status)
        before = await cloud.row(request)
        trail = await cloud.trail(request)
        payload = await cloud.act(document, caller, request, reason="because")
        expected = LEGAL.get((action, status))
        if expected is None:
            assert payload["request"] is None, (action, status)
            assert [e["code"] for e in payload["userErrors"]] == ["INVALID_TRANSITION"], (action, status)
            after = await cloud.row(request)
            assert (after.status, after.version, after.attempt) == (
                before.status,
                before.version,
                before.attempt,
            )
            assert await cloud.trail(request) == trail
            continue
        assert payload["userErrors"] == [], (action, status, payload)
        assert payload["request"]["status"] == expected.value, (action, status)
        actor = "admin" if action in SERVICE_ACTIONS else "user"
        if expected != status:
            assert (await cloud.trail(request))[-1] == (status.value, expected.value, actor)


async def test_advance_runs_the_steps_in_order_then_activates(cloud: Cloud) -> None:
    owner = await cloud.shop.account()
    request = await cloud.request(owner, status=S.RUNNING)
    for n, name in enumerate(["VALIDATE", "ALLOCATE", "CONFIGURE", "DEPLOY"], start=1):
        payload = await cloud.act(ADVANCE, cloud.shop.operator, request, reason=f"{name} ok")
        assert payload["request"]["percent"] == n * 20
        assert payload["request"]["steps"][n - 1] == {
            "name": name,
            "status": "COMPLETED",
            "message": f"{name} ok",
        }
    done = await cloud.act(ADVANCE, cloud.shop.operator, request)
    assert (done["request"]["status"], done["request"]["percent"]) == ("ACTIVE", 100)
    again = await cloud.act(ADVANCE, cloud.shop.operator, request)
    assert [e["code"] for e in again["userErrors"]] == ["INVALID_TRANSITION"]


async def test_fail_then_retry_counts_attempts_and_keeps_done_steps(cloud: Cloud) -> None:
    owner = await cloud.shop.account()
    request = await cloud.request(owner, status=S.RUNNING)
    await cloud.act(ADVANCE, cloud.shop.operator, request)
    failed = await cloud.act(FAIL, cloud.shop.operator, request, reason="quota exceeded")
    assert (failed["request"]["status"], failed["request"]["failureReason"]) == ("FAILED", "quota exceeded")
    retried = (await cloud.act(RETRY, owner, request))["request"]
    assert (retried["status"], retried["attempt"], retried["failureReason"]) == ("RUNNING", 2, None)
    assert [s["status"] for s in retried["steps"]] == [
        "COMPLETED",
        "PENDING",
        "PENDING",
        "PENDING",
        "PENDING",
    ]


async def test_manual_requests_are_completed_by_hand(cloud: Cloud) -> None:
    owner = await cloud.shop.account()
    manual = await cloud.request(owner, manual=True)
    done = await cloud.act(COMPLETE_MANUAL, owner, manual, reason="set up on site")
    assert (done["request"]["status"], done["request"]["percent"]) == ("ACTIVE", 100)
    assert {s["status"] for s in done["request"]["steps"]} == {"COMPLETED"}
    twice = await cloud.act(COMPLETE_MANUAL, owner, manual)
    assert [e["code"] for e in twice["userErrors"]] == ["INVALID_TRANSITION"]
    automatic = await cloud.request(owner)
    refused = await cloud.act(COMPLETE_MANUAL, owner, automatic)
    assert [e["code"] for e in refused["userErrors"]] == ["NOT_MANUAL"]
    assert (await cloud.row(automatic)).status == S.PENDING


async def test_who_may_do_what(cloud: Cloud, identity: Identity) -> None:
    shop = cloud.shop
    owner, stranger = await shop.account(), await shop.account()
    manager, support = await shop.account(Role.MANAGER), await shop.account(Role.SUPPORT_AGENT)
    request = await cloud.request(owner)
    # Owners and staff may not run the service-only steps; strangers do not even see the request.
    for account in (owner, manager, shop.admin):
        result = await shop.gql(START, {"input": {"id": request}}, token=account.token)
        assert result.error_codes == ["FORBIDDEN"], result.body
    assert (await shop.gql(REQUEST_QUERY, {"id": request}, token=stranger.token)).error_codes == ["NOT_FOUND"]
    refused = await shop.gql(DEPROVISION, {"input": {"id": request}}, token=stranger.token)
    assert refused.error_codes == ["NOT_FOUND"]
    # Another tenant's admin finds nothing either.
    other = await new_shop(shop.runtime, shop.gql, identity)
    assert (await shop.gql(REQUEST_QUERY, {"id": request}, token=other.admin.token)).error_codes == [
        "NOT_FOUND"
    ]
    assert (await cloud.row(request)).status == S.PENDING
    # Staff act on anybody's request of the tenant.
    await cloud.act(START, shop.operator, request)
    for _ in range(5):
        await cloud.act(ADVANCE, shop.operator, request)
    assert (await cloud.act(SUSPEND, support, request))["request"]["status"] == "SUSPENDED"
    assert (await cloud.act(REACTIVATE, manager, request))["request"]["status"] == "ACTIVE"
    assert [t[2] for t in await cloud.trail(request)][-2:] == ["staff", "staff"]


async def test_a_service_client_runs_the_service_only_steps(cloud: Cloud, http: httpx.AsyncClient) -> None:
    shop = cloud.shop
    owner = await shop.account()
    request = await cloud.request(owner)
    platform_admin = await quick_account(shop.runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    secret, client = await create_client(shop.gql, platform_admin, ["PROVISIONING_RUN"])
    token = (await token_of(http, client["clientId"], secret))["access_token"]
    started = await shop.gql(START, {"input": {"id": request}}, token=token)
    assert started.ok()["startProvisioningRequest"]["request"]["status"] == "RUNNING"
    failed = await shop.gql(FAIL, {"input": {"id": request, "reason": "no capacity"}}, token=token)
    assert failed.ok()["failProvisioningRequest"]["request"]["failureReason"] == "no capacity"
    assert (await cloud.trail(request))[-2:] == [
        ("PENDING", "RUNNING", "service"),
        ("RUNNING", "FAILED", "service"),
    ]
    # Owner-side steps need a session (or provisioning:write): this token may not retry.
    assert (await shop.gql(RETRY, {"input": {"id": request}}, token=token)).error_codes == ["FORBIDDEN"]


async def test_create_validates_product_and_parameters(cloud: Cloud) -> None:
    shop = cloud.shop
    owner = await shop.account()
    plain = await shop.product(100)

    async def create(**input: object) -> dict[str, object]:
        result = await shop.gql(CREATE, {"input": input}, token=owner.token)
        payload: dict[str, object] = result.ok()["createProvisioningRequest"]
        return payload

    def codes(payload: dict[str, object]) -> list[str]:
        return [e["code"] for e in payload["userErrors"]]  # type: ignore[attr-defined, index]

    product = gid("Product", cloud.product_id)
    assert codes(await create()) == ["PRODUCT_REQUIRED"]
    assert codes(await create(productId=gid("Product", plain))) == ["PRODUCT_NOT_PROVISIONED"]
    assert codes(await create(productId=product, parameters=[1, 2])) == ["INVALID_PARAMETERS"]
    assert codes(await create(productId=product, parameters={"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}})) == [
        "INVALID_PARAMETERS"
    ]
    assert codes(await create(productId=product, parameters={"blob": "x" * 9000})) == ["INVALID_PARAMETERS"]
    made = await create(productId=product, parameters={"region": "eu-west"})
    assert codes(made) == []
    request = made["request"]
    assert request["status"] == "PENDING" and request["parameters"] == {"region": "eu-west"}  # type: ignore[index]
    assert [s["name"] for s in request["steps"]] == [  # type: ignore[index]
        "VALIDATE",
        "ALLOCATE",
        "CONFIGURE",
        "DEPLOY",
        "VERIFY",
    ]
    assert request["auditTrail"] == [{"from": None, "to": "PENDING", "actor": "user"}]  # type: ignore[index]
