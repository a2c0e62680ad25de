"""Privacy against real PostgreSQL and Redis: consent records with history (appended, never
updated), CCPA do-not-sell (the mutation, and Sec-GPC: 1 recorded once for a signed-in user, with
GPC: 1 on the response), and erasing oneself (GDPR Art. 17) with the anonymising delete admins use."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import func, select

from core.permissions import Role
from core.scope import TenantScope
from models.billing import Invoice
from models.identity.accounts import AuthSession, User, UserRole, UserStatus
from models.identity.api_keys import ApiKey
from models.identity.mfa import MfaCredential, MfaRecoveryCode
from models.identity.oauth import UserIdentity
from models.identity.privacy import ConsentPurpose, ConsentRecord, ConsentSource, DataExport
from models.orders import Order
from server.runtime import Runtime
from services.identity.oauth import NO_PASSWORD
from tests.support.api_keys import create_key, with_key
from tests.support.graphql import GraphQLClient
from tests.support.identity import PASSWORD, Account, global_id, quick_account

ALL = TenantScope.all_tenants()
CLIENT_IP = "203.0.113.7"
CONSENT_FIELDS = "purpose granted source ipAddress userAgent createdAt"
RECORD = f"""
mutation($input: RecordConsentInput!) {{
  recordConsent(input: $input) {{ consent {{ {CONSENT_FIELDS} }} userErrors {{ code }} }}
}}
"""
DO_NOT_SELL = f"""
mutation($input: SetDoNotSellInput!) {{
  setDoNotSell(input: $input) {{ consent {{ {CONSENT_FIELDS} }} userErrors {{ code }} }}
}}
"""
MY_CONSENTS = f"{{ myConsents {{ current {{ purpose granted decidedAt }} history {{ {CONSENT_FIELDS} }} }} }}"
ERASE = "mutation($input: EraseMeInput!) { eraseMe(input: $input) { erased userErrors { field code } } }"
REQUEST_EXPORT = "mutation { requestDataExport { userErrors { code } } }"
ME = "{ me { email } }"


def current(consents: dict[str, Any]) -> dict[str, bool]:
    return {row["purpose"]: row["granted"] for row in consents["current"]}


async def consent_rows(runtime: Runtime, user_id: uuid.UUID) -> list[ConsentRecord]:
    async with runtime.db.session(ALL) as session:
        return list(
            await session.scalars(
                select(ConsentRecord)
                .where(ConsentRecord.user_id == user_id)
                .order_by(ConsentRecord.created_at)
            )
        )


async def test_consents_are_appended_with_source_and_answered_per_purpose(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    alice = await quick_account(runtime, "acme")
    bob = await quick_account(runtime, "acme")
    agent = {"User-Agent": "privacy-test/1.0"}
    for purpose, granted in (("MARKETING_EMAILS", True), ("ANALYTICS", True), ("MARKETING_EMAILS", False)):
        variables = {"input": {"purpose": purpose, "granted": granted}}
        payload = (await gql(RECORD, variables, token=alice.token, headers=agent)).ok()["recordConsent"]
        assert payload["userErrors"] == []
        assert payload["consent"]["purpose"] == purpose and payload["consent"]["granted"] is granted
    consents = (await gql(MY_CONSENTS, token=alice.token)).ok()["myConsents"]
    assert current(consents) == {
        "MARKETING_EMAILS": False,
        "ANALYTICS": True,
        "PERSONALISATION": False,
        "THIRD_PARTY_SHARING": False,
        "SALE_OF_PERSONAL_DATA": False,
    }
    undecided = [row for row in consents["current"] if row["decidedAt"] is None]
    assert {row["purpose"] for row in undecided} == {
        "PERSONALISATION",
        "THIRD_PARTY_SHARING",
        "SALE_OF_PERSONAL_DATA",
    }
    history = consents["history"]
    assert [(row["purpose"], row["granted"]) for row in history] == [
        ("MARKETING_EMAILS", False),
        ("ANALYTICS", True),
        ("MARKETING_EMAILS", True),
    ]
    assert all(row["source"] == "USER" and row["ipAddress"] == CLIENT_IP for row in history)
    assert all(row["userAgent"] == "privacy-test/1.0" for row in history)
    # Three rows: the change of mind was appended, not written over.
    assert len(await consent_rows(runtime, alice.user_id)) == 3
    # Bob's consents are his own.
    assert (await gql(MY_CONSENTS, token=bob.token)).ok()["myConsents"]["history"] == []
    # Unknown purposes are refused by the schema; anonymous callers and API keys are not users deciding.
    bad = await gql(RECORD, {"input": {"purpose": "SPAM", "granted": True}}, token=alice.token)
    assert bad.error_codes == ["BAD_USER_INPUT"]
    assert (await gql(MY_CONSENTS)).error_codes == ["UNAUTHENTICATED"]
    secret, _ = await create_key(gql, alice)
    assert (await with_key(gql, secret, MY_CONSENTS)).error_codes == ["FORBIDDEN"]


async def test_do_not_sell_mutation_records_the_sale_consent(runtime: Runtime, gql: GraphQLClient) -> None:
    alice = await quick_account(runtime, "acme")
    out = (await gql(DO_NOT_SELL, {"input": {"optOut": True}}, token=alice.token)).ok()["setDoNotSell"]
    assert out["consent"]["purpose"] == "SALE_OF_PERSONAL_DATA" and out["consent"]["granted"] is False
    back = (await gql(DO_NOT_SELL, {"input": {"optOut": False}}, token=alice.token)).ok()["setDoNotSell"]
    assert back["consent"]["granted"] is True
    rows = await consent_rows(runtime, alice.user_id)
    assert [(r.purpose, r.granted, r.source) for r in rows] == [
        (ConsentPurpose.SALE_OF_PERSONAL_DATA, False, ConsentSource.USER),
        (ConsentPurpose.SALE_OF_PERSONAL_DATA, True, ConsentSource.USER),
    ]


async def test_gpc_answers_gpc_and_records_a_signed_in_users_opt_out_once(
    runtime: Runtime, gql: GraphQLClient, http: httpx.AsyncClient
) -> None:
    gpc = {"Sec-GPC": "1"}
    anonymous = await gql("{ __typename }", headers=gpc)
    assert anonymous.headers.get("gpc") == "1"
    assert (await gql("{ __typename }")).headers.get("gpc") is None
    assert (await gql("{ __typename }", headers={"Sec-GPC": "0"})).headers.get("gpc") is None
    # Other routes answer it too.
    assert (await http.get("/health", headers=gpc)).headers.get("gpc") == "1"

    alice = await quick_account(runtime, "acme")
    for _ in range(3):
        assert (await gql(ME, token=alice.token, headers=gpc)).headers.get("gpc") == "1"
    rows = await consent_rows(runtime, alice.user_id)
    assert [(r.purpose, r.granted, r.source, r.ip_address) for r in rows] == [
        (ConsentPurpose.SALE_OF_PERSONAL_DATA, False, ConsentSource.GPC, CLIENT_IP)
    ]
    consents = (await gql(MY_CONSENTS, token=alice.token)).ok()["myConsents"]
    assert current(consents)["SALE_OF_PERSONAL_DATA"] is False
    # Opting back in, then a GPC request again: the signal wins and is recorded again (once).
    (await gql(DO_NOT_SELL, {"input": {"optOut": False}}, token=alice.token)).ok()
    for _ in range(2):
        (await gql(ME, token=alice.token, headers=gpc)).ok()
    rows = await consent_rows(runtime, alice.user_id)
    assert [(r.granted, r.source) for r in rows] == [
        (False, ConsentSource.GPC),
        (True, ConsentSource.USER),
        (False, ConsentSource.GPC),
    ]
    # A user who opted out already gets no GPC row.
    bob = await quick_account(runtime, "acme")
    (await gql(DO_NOT_SELL, {"input": {"optOut": True}}, token=bob.token)).ok()
    (await gql(ME, token=bob.token, headers=gpc)).ok()
    assert [r.source for r in await consent_rows(runtime, bob.user_id)] == [ConsentSource.USER]


async def _personal_links(runtime: Runtime, account: Account) -> uuid.UUID:
    """An order and its invoice, an MFA secret with a recovery code, an OAuth link; the order's id."""
    order_id = uuid.uuid4()
    async with runtime.db.transaction(TenantScope.of(account.tenant_id)) as session:
        session.add(
            Order(id=order_id, number="ORD-E", user_id=account.user_id, currency="EUR", subtotal=5, total=5)
        )
        await session.flush()
        session.add(
            Invoice(
                number="INV-E",
                customer_id=account.user_id,
                order_id=order_id,
                currency="EUR",
                subtotal=5,
                total=5,
            )
        )
        session.add(
            MfaCredential(tenant_id=account.tenant_id, user_id=account.user_id, secret_ciphertext="x")
        )
        session.add(MfaRecoveryCode(tenant_id=account.tenant_id, user_id=account.user_id, code_hash="h" * 64))
        session.add(
            UserIdentity(
                tenant_id=account.tenant_id, user_id=account.user_id, provider="github", subject="42"
            )
        )
        user = await session.get_one(User, account.user_id)
        user.mfa_enabled = True
        user.phone = "+15550000009"
    return order_id


async def _count(runtime: Runtime, model: Any, user_id: uuid.UUID) -> int:
    async with runtime.db.session(ALL) as session:
        return int(
            await session.scalar(select(func.count()).select_from(model).where(model.user_id == user_id)) or 0
        )


async def test_erase_me_needs_the_password(runtime: Runtime, gql: GraphQLClient) -> None:
    alice = await quick_account(runtime, "acme")
    wrong = (await gql(ERASE, {"input": {"password": "not-it"}}, token=alice.token)).ok()["eraseMe"]
    assert wrong == {
        "erased": False,
        "userErrors": [{"field": ["input", "password"], "code": "INVALID_CREDENTIALS"}],
    }
    # Without the password: a password account cannot confirm with its session instead.
    session_gid = global_id("Session", await _session_id(runtime, alice))
    for confirmation in ({}, {"sessionId": session_gid}):
        refused = (await gql(ERASE, {"input": confirmation}, token=alice.token)).ok()["eraseMe"]
        assert [error["code"] for error in refused["userErrors"]] == ["CONFIRMATION_REQUIRED"]
    assert (await gql(ME, token=alice.token)).ok()["me"]["email"] == alice.email
    assert (await gql(ERASE, {"input": {"password": PASSWORD}})).error_codes == ["UNAUTHENTICATED"]


async def _session_id(runtime: Runtime, account: Account) -> uuid.UUID:
    async with runtime.db.session(ALL) as session:
        found = await session.scalar(select(AuthSession.id).where(AuthSession.user_id == account.user_id))
    assert found is not None
    return found


async def test_erase_me_anonymises_revokes_and_keeps_financial_records(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    alice = await quick_account(runtime, "acme")
    bob = await quick_account(runtime, "acme")
    order_id = await _personal_links(runtime, alice)
    secret, _ = await create_key(gql, alice)
    (await gql(RECORD, {"input": {"purpose": "ANALYTICS", "granted": True}}, token=alice.token)).ok()
    (await gql(REQUEST_EXPORT, token=alice.token)).ok()
    (await gql(RECORD, {"input": {"purpose": "ANALYTICS", "granted": True}}, token=bob.token)).ok()

    erased = (await gql(ERASE, {"input": {"password": PASSWORD}}, token=alice.token)).ok()["eraseMe"]
    assert erased == {"erased": True, "userErrors": []}

    async with runtime.db.session(ALL) as session:
        user = await session.get_one(User, alice.user_id)
        sessions = list(
            await session.scalars(select(AuthSession).where(AuthSession.user_id == alice.user_id))
        )
        keys = list(await session.scalars(select(ApiKey).where(ApiKey.user_id == alice.user_id)))
        order = await session.get_one(Order, order_id)
        invoice_owner = await session.scalar(select(Invoice.customer_id).where(Invoice.order_id == order_id))
    assert user.status == UserStatus.DELETED and user.email == f"deleted-{alice.user_id.hex}@deleted.invalid"
    assert user.full_name == "Deleted user" and user.phone is None and user.mfa_enabled is False
    assert sessions and all(s.revoked_at is not None and s.revoke_reason == "user_erased" for s in sessions)
    assert keys and all(k.revoked_at is not None and k.revoke_reason == "user_erased" for k in keys)
    # Financial records stay, pointing at the anonymised user.
    assert order.user_id == alice.user_id and invoice_owner == alice.user_id
    for model in (UserRole, MfaCredential, MfaRecoveryCode, UserIdentity, DataExport):
        assert await _count(runtime, model, alice.user_id) == 0, model
    # Consents stay as history, without where they came from.
    rows = await consent_rows(runtime, alice.user_id)
    assert [(r.purpose, r.ip_address, r.user_agent) for r in rows] == [(ConsentPurpose.ANALYTICS, None, None)]
    # The token, the key and the password no longer work; Bob is untouched.
    assert (await gql(ME, token=alice.token)).error_codes == ["UNAUTHENTICATED"]
    assert (await with_key(gql, secret, ME)).error_codes == ["UNAUTHENTICATED"]
    assert (await gql(ME, token=bob.token)).ok()["me"]["email"] == bob.email
    assert [r.ip_address for r in await consent_rows(runtime, bob.user_id)] == [CLIENT_IP]


async def test_an_account_without_password_confirms_with_its_current_session(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    alice = await quick_account(runtime, "acme")
    other = await quick_account(runtime, "acme")
    async with runtime.db.transaction(ALL) as session:
        (await session.get_one(User, alice.user_id)).password_hash = NO_PASSWORD
    # Another session's id (not this request's) does not confirm.
    foreign = global_id("Session", await _session_id(runtime, other))
    refused = (await gql(ERASE, {"input": {"sessionId": foreign}}, token=alice.token)).ok()["eraseMe"]
    assert [error["code"] for error in refused["userErrors"]] == ["CONFIRMATION_REQUIRED"]
    mine = global_id("Session", await _session_id(runtime, alice))
    erased = (await gql(ERASE, {"input": {"sessionId": mine}}, token=alice.token)).ok()["eraseMe"]
    assert erased == {"erased": True, "userErrors": []}
    async with runtime.db.session(ALL) as session:
        assert (await session.get_one(User, alice.user_id)).status == UserStatus.DELETED


async def test_an_admins_delete_anonymises_the_same_way(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    alice = await quick_account(runtime, "acme")
    await _personal_links(runtime, alice)
    delete = "mutation($input: UserIdInput!) { deleteUser(input: $input) { userErrors { code } } }"
    assert (await gql(delete, {"input": {"id": alice.gid}}, token=admin.token)).ok()["deleteUser"][
        "userErrors"
    ] == []
    for model in (MfaCredential, MfaRecoveryCode, UserIdentity):
        assert await _count(runtime, model, alice.user_id) == 0, model
    async with runtime.db.session(ALL) as session:
        reasons = set(
            await session.scalars(
                select(AuthSession.revoke_reason).where(AuthSession.user_id == alice.user_id)
            )
        )
    assert reasons == {"user_deleted"}
