"""Personal data export (GDPR Art. 20) against real PostgreSQL: a queued job that a worker collects
into one JSON document of the user's rows (none of another user's), announced by mail with a
single-use, expiring download link; one export at a time."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from core.scope import TenantScope
from models.base import utcnow
from models.billing import Invoice, MailMessage
from models.identity.accounts import User
from models.identity.privacy import DataExport, ExportStatus
from models.identity.verification import SmsMessage
from models.orders import Order
from server.runtime import Runtime
from services.identity.data_export import run_export
from tests.support.api_keys import create_key
from tests.support.graphql import GraphQLClient
from tests.support.identity import Account, quick_account

ALL = TenantScope.all_tenants()
JOB = "id status createdAt startedAt finishedAt linkExpiresAt downloadedAt error"
REQUEST = f"mutation {{ requestDataExport {{ export {{ {JOB} }} userErrors {{ field code message }} }} }}"
MY_EXPORTS = f"{{ myDataExports {{ {JOB} }} }}"
CONSENT = """
mutation($input: RecordConsentInput!) { recordConsent(input: $input) { userErrors { code } } }
"""
LINK = re.compile(r"http\S+/privacy/exports/(?P<id>[0-9a-f-]{36})\?token=(?P<token>\S+)")


async def personal_rows(runtime: Runtime, account: Account, number: str, phone: str) -> None:
    """An order and its invoice, a text message to the user's phone."""
    order_id = uuid.uuid4()
    async with runtime.db.transaction(TenantScope.of(account.tenant_id)) as session:
        session.add(
            Order(
                id=order_id, number=number, user_id=account.user_id, currency="EUR", subtotal=900, total=900
            )
        )
        await session.flush()
        session.add(
            Invoice(
                number=f"INV-{number}",
                customer_id=account.user_id,
                order_id=order_id,
                currency="EUR",
                subtotal=900,
                total=900,
            )
        )
        session.add(SmsMessage(tenant_id=account.tenant_id, to_number=phone, body=f"code for {number}"))
        user = await session.get_one(User, account.user_id)
        user.phone = phone


async def finished(runtime: Runtime, gql: GraphQLClient, account: Account) -> dict[str, Any]:
    """Runs export rounds (the runtime's worker may take the job first) until the newest is done."""
    for _ in range(100):
        await run_export(runtime.db, runtime.settings)
        jobs = (await gql(MY_EXPORTS, token=account.token)).ok()["myDataExports"]
        if jobs[0]["status"] in ("READY", "FAILED"):
            return dict(jobs[0])
        await asyncio.sleep(0.05)
    raise AssertionError("the export did not finish")


async def link_of(runtime: Runtime, account: Account) -> tuple[str, str]:
    async with runtime.db.session(ALL) as session:
        bodies = list(
            await session.scalars(
                select(MailMessage.body_text).where(
                    MailMessage.to_address == account.email,
                    MailMessage.subject == "Your data export is ready",
                )
            )
        )
    assert len(bodies) == 1, bodies
    found = LINK.search(bodies[0])
    assert found is not None, bodies[0]
    return found["id"], found["token"]


async def download(http: httpx.AsyncClient, export_id: str, token: str) -> httpx.Response:
    return await http.get(f"/privacy/exports/{export_id}", params={"token": token})


async def test_export_holds_my_rows_and_none_of_another_users(
    runtime: Runtime, gql: GraphQLClient, http: httpx.AsyncClient
) -> None:
    alice = await quick_account(runtime, "acme")
    bob = await quick_account(runtime, "acme")
    await personal_rows(runtime, alice, "ORD-ALICE", "+15550000001")
    await personal_rows(runtime, bob, "ORD-BOB", "+15550000002")
    for account, purpose in ((alice, "ANALYTICS"), (bob, "MARKETING_EMAILS")):
        variables = {"input": {"purpose": purpose, "granted": True}}
        assert (await gql(CONSENT, variables, token=account.token)).ok()["recordConsent"]["userErrors"] == []
    alice_secret, _ = await create_key(gql, alice, name="alice key")
    await create_key(gql, bob, name="bob key")

    queued = (await gql(REQUEST, token=alice.token)).ok()["requestDataExport"]
    assert queued["userErrors"] == [] and queued["export"]["status"] == "QUEUED"
    job = await finished(runtime, gql, alice)
    assert job["id"] == queued["export"]["id"]
    assert job["status"] == "READY" and job["startedAt"] and job["finishedAt"] and job["linkExpiresAt"]
    export_id, token = await link_of(runtime, alice)
    assert export_id == job["id"]

    response = await download(http, export_id, token)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert "attachment" in response.headers["content-disposition"]
    document = response.json()
    text = response.text
    assert document["user"]["id"] == str(alice.user_id) and document["user"]["email"] == alice.email
    assert document["user"]["phone"] == "+15550000001"
    assert document["roles"] == ["USER"]
    assert [row["number"] for row in document["orders"]] == ["ORD-ALICE"]
    assert [row["number"] for row in document["invoices"]] == ["INV-ORD-ALICE"]
    assert [row["body"] for row in document["smsMessages"]] == ["code for ORD-ALICE"]
    assert [(row["purpose"], row["granted"]) for row in document["consents"]] == [("ANALYTICS", True)]
    assert [row["name"] for row in document["apiKeys"]] == ["alice key"]
    assert len(document["sessions"]) == 1 and document["sessions"][0]["user_id"] == str(alice.user_id)
    assert document["mfa"] == {"enabled": False, "setUpAt": None, "unusedRecoveryCodes": 0}
    # Nothing of Bob's, and no secret: no hashes, not the API key's secret.
    for foreign in (str(bob.user_id), bob.email, "ORD-BOB", "+15550000002", "MARKETING_EMAILS", "bob key"):
        assert foreign not in text, foreign
    for secret in ("password_hash", "secret_hash", "token_hash", "$argon2", alice_secret):
        assert secret not in text, secret

    # The link works once.
    again = await download(http, export_id, token)
    assert again.status_code == 410 and again.json()["code"] == "EXPORT_LINK_USED"
    jobs = (await gql(MY_EXPORTS, token=alice.token)).ok()["myDataExports"]
    assert jobs[0]["downloadedAt"] is not None
    # Bob sees none of Alice's jobs.
    assert (await gql(MY_EXPORTS, token=bob.token)).ok()["myDataExports"] == []


async def test_one_export_at_a_time(runtime: Runtime, gql: GraphQLClient) -> None:
    alice = await quick_account(runtime, "acme")
    assert (await gql(REQUEST, token=alice.token)).ok()["requestDataExport"]["userErrors"] == []
    second = (await gql(REQUEST, token=alice.token)).ok()["requestDataExport"]
    assert second["export"] is None
    assert [error["code"] for error in second["userErrors"]] == ["EXPORT_IN_PROGRESS"]
    # Running counts as in progress too; once it is done a new one may start.
    async with runtime.db.transaction(ALL) as session:
        await session.execute(update(DataExport).values(status=ExportStatus.RUNNING))
    third = (await gql(REQUEST, token=alice.token)).ok()["requestDataExport"]
    assert [error["code"] for error in third["userErrors"]] == ["EXPORT_IN_PROGRESS"]
    async with runtime.db.transaction(ALL) as session:
        await session.execute(update(DataExport).values(status=ExportStatus.FAILED))
    fourth = (await gql(REQUEST, token=alice.token)).ok()["requestDataExport"]
    assert fourth["userErrors"] == [] and fourth["export"]["status"] == "QUEUED"
    jobs = (await gql(MY_EXPORTS, token=alice.token)).ok()["myDataExports"]
    assert [job["status"] for job in jobs] == ["QUEUED", "FAILED"]
    # Anonymous callers cannot ask.
    assert (await gql(REQUEST)).error_codes == ["UNAUTHENTICATED"]


async def test_download_link_refusals(runtime: Runtime, gql: GraphQLClient, http: httpx.AsyncClient) -> None:
    alice = await quick_account(runtime, "acme")
    bob = await quick_account(runtime, "acme")
    for account in (alice, bob):
        (await gql(REQUEST, token=account.token)).ok()
        await finished(runtime, gql, account)
    alice_id, alice_token = await link_of(runtime, alice)
    bob_id, bob_token = await link_of(runtime, bob)

    # Another user's export with my token, a forged token, no token, not an id: 404, nothing used.
    for export_id, token in (
        (bob_id, alice_token),
        (alice_id, "forged"),
        (alice_id, ""),
        ("nope", alice_token),
    ):
        response = await download(http, export_id, token)
        assert response.status_code == 404, (export_id, token, response.text)
        assert response.json()["code"] == "NOT_FOUND"
    # An expired link: 410.
    async with runtime.db.transaction(ALL) as session:
        await session.execute(
            update(DataExport)
            .where(DataExport.id == uuid.UUID(bob_id))
            .values(token_expires_at=utcnow() - timedelta(seconds=1))
        )
    expired = await download(http, bob_id, bob_token)
    assert expired.status_code == 410 and expired.json()["code"] == "EXPORT_LINK_EXPIRED"
    # Alice's link still works (the refusals above did not use it up).
    ok = await download(http, alice_id, alice_token)
    assert ok.status_code == 200 and json.loads(ok.text)["user"]["id"] == str(alice.user_id)


async def test_the_servers_own_worker_collects_queued_exports(runtime: Runtime, gql: GraphQLClient) -> None:
    alice = await quick_account(runtime, "acme")
    assert runtime.data_exports.running
    (await gql(REQUEST, token=alice.token)).ok()
    for _ in range(200):  # the worker polls every data_export_poll_seconds (2 s by default)
        jobs = (await gql(MY_EXPORTS, token=alice.token)).ok()["myDataExports"]
        if jobs[0]["status"] == "READY":
            break
        await asyncio.sleep(0.05)
    assert jobs[0]["status"] == "READY"
    await link_of(runtime, alice)
