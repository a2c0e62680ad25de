"""Wallets (seed 002 GET /users/me/balance): an append-only ledger moving two balances that never
go negative, posted by service principals and platform admins; `me { wallet }`; the daily quota."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core.permissions import Role
from core.scope import TenantScope
from models.identity.wallet import LedgerIsAppendOnly, Wallet, WalletEntry
from server.runtime import Runtime
from services.identity.bootstrap import PLATFORM_TENANT_SLUG
from tests.support.api_keys import create_client, token_of
from tests.support.graphql import GraphQLClient, count_statements
from tests.support.identity import Account, global_id, quick_account

ALL = TenantScope.all_tenants()
ERRORS = "userErrors { field code message }"
WALLET = (
    "currency balanceMinor affiliateBalanceMinor balance { amount currency } parallelRenderingCeiling "
    "dailyQuota { limit usedToday remaining resetsAt } updatedAt"
)
ENTRY = "id kind amountMinor amount { amount currency } balanceAfterMinor reason reference createdAt"
POST = f"""
mutation($input: PostWalletEntryInput!) {{
  postWalletEntry(input: $input) {{ entry {{ {ENTRY} }} wallet {{ {WALLET} }} replayed {ERRORS} }}
}}
"""
CONSUME = f"""
mutation($input: ConsumeDailyQuotaInput!) {{
  consumeDailyQuota(input: $input) {{ wallet {{ {WALLET} }} {ERRORS} }}
}}
"""
SET_QUOTA = f"""
mutation($input: SetWalletQuotaInput!) {{
  setWalletQuota(input: $input) {{ wallet {{ {WALLET} }} {ERRORS} }}
}}
"""
ME = f"{{ me {{ wallet {{ {WALLET} entries(first: 10) {{ totalCount nodes {{ {ENTRY} }} }} }} }} }}"
USER_WALLET = f"query($id: ID!) {{ userWallet(userId: $id) {{ {WALLET} }} }}"


async def service_token(
    gql: GraphQLClient, http: httpx.AsyncClient, runtime: Runtime, scopes: list[str]
) -> str:
    admin = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    secret, client = await create_client(gql, admin, scopes)
    return str((await token_of(http, client["clientId"], secret))["access_token"])


@pytest.fixture
async def writer(gql: GraphQLClient, http: httpx.AsyncClient, runtime: Runtime) -> str:
    return await service_token(gql, http, runtime, ["WALLET_WRITE"])


async def post(gql: GraphQLClient, token: str, user: Account, amount: int, **fields: Any) -> dict[str, Any]:
    variables = {"input": {"userId": user.gid, "amountMinor": amount, "reason": "top-up", **fields}}
    payload: dict[str, Any] = (await gql(POST, variables, token=token)).ok()["postWalletEntry"]
    return payload


async def ledger(runtime: Runtime) -> list[WalletEntry]:
    async with runtime.db.session(ALL) as session:
        return list(await session.scalars(select(WalletEntry).order_by(WalletEntry.created_at)))


async def test_a_new_user_reads_an_empty_wallet_with_the_default_quota(
    gql: GraphQLClient, runtime: Runtime
) -> None:
    user = await quick_account(runtime, "wallet-shop")
    wallet = (await gql(ME, token=user.token)).ok()["me"]["wallet"]
    assert (wallet["currency"], wallet["balanceMinor"], wallet["affiliateBalanceMinor"]) == ("EUR", 0, 0)
    assert wallet["balance"] == {"amount": 0, "currency": "EUR"}
    assert wallet["parallelRenderingCeiling"] == runtime.settings.wallet_parallel_ceiling
    limit = runtime.settings.wallet_daily_quota
    assert {k: wallet["dailyQuota"][k] for k in ("limit", "usedToday", "remaining")} == {
        "limit": limit,
        "usedToday": 0,
        "remaining": limit,
    }
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    assert datetime.fromisoformat(wallet["dailyQuota"]["resetsAt"]) == datetime(
        tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=UTC
    )
    assert wallet["updatedAt"] is None
    assert wallet["entries"] == {"totalCount": 0, "nodes": []}
    async with runtime.db.session(ALL) as session:  # reading creates no row
        assert list(await session.scalars(select(Wallet))) == []


async def test_credits_and_debits_move_the_balances_and_the_ledger(
    gql: GraphQLClient, runtime: Runtime, writer: str
) -> None:
    user = await quick_account(runtime, "wallet-shop")
    credit = await post(gql, writer, user, 5000, reason="paid by card", reference="pay-1")
    assert credit["userErrors"] == [] and credit["replayed"] is False
    assert (credit["entry"]["kind"], credit["entry"]["amountMinor"]) == ("BALANCE", 5000)
    assert credit["entry"]["amount"] == {"amount": 5000, "currency": "EUR"}
    assert (credit["entry"]["balanceAfterMinor"], credit["entry"]["reference"]) == (5000, "pay-1")
    debit = await post(gql, writer, user, -1200, reason="render #7")
    assert (debit["entry"]["balanceAfterMinor"], debit["wallet"]["balanceMinor"]) == (3800, 3800)
    affiliate = await post(gql, writer, user, 300, kind="AFFILIATE", reason="referral")
    assert affiliate["wallet"]["affiliateBalanceMinor"] == 300
    assert affiliate["wallet"]["balanceMinor"] == 3800

    me = (await gql(ME, token=user.token)).ok()["me"]["wallet"]
    assert (me["balanceMinor"], me["affiliateBalanceMinor"]) == (3800, 300)
    assert me["updatedAt"] is not None
    assert me["entries"]["totalCount"] == 3
    assert [(e["kind"], e["amountMinor"], e["reason"]) for e in me["entries"]["nodes"]] == [
        ("AFFILIATE", 300, "referral"),
        ("BALANCE", -1200, "render #7"),
        ("BALANCE", 5000, "paid by card"),
    ]
    rows = await ledger(runtime)
    assert [(r.tenant_id, r.user_id) for r in rows] == [(user.tenant_id, user.user_id)] * 3
    assert {r.posted_by for r in rows} != {None}


async def test_a_debit_beyond_the_balance_is_refused_and_writes_nothing(
    gql: GraphQLClient, runtime: Runtime, writer: str
) -> None:
    user = await quick_account(runtime, "wallet-shop")
    await post(gql, writer, user, 100)
    refused = await post(gql, writer, user, -101)
    assert refused["entry"] is None
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
        (["input", "amountMinor"], "INSUFFICIENT_BALANCE")
    ]
    # the affiliate balance is a balance of its own: the BALANCE credit does not cover it
    other = await post(gql, writer, user, -1, kind="AFFILIATE")
    assert [e["code"] for e in other["userErrors"]] == ["INSUFFICIENT_BALANCE"]
    exact = await post(gql, writer, user, -100)
    assert exact["wallet"]["balanceMinor"] == 0
    assert [r.amount_minor for r in await ledger(runtime)] == [100, -100]


async def test_concurrent_debits_never_overdraw(gql: GraphQLClient, runtime: Runtime, writer: str) -> None:
    user = await quick_account(runtime, "wallet-shop")
    await post(gql, writer, user, 500)
    answers = await asyncio.gather(*(post(gql, writer, user, -100) for _ in range(8)))
    taken = [a for a in answers if a["userErrors"] == []]
    refused = [a for a in answers if a["userErrors"]]
    assert len(taken) == 5 and len(refused) == 3
    assert {a["userErrors"][0]["code"] for a in refused} == {"INSUFFICIENT_BALANCE"}
    assert sorted(a["entry"]["balanceAfterMinor"] for a in taken) == [0, 100, 200, 300, 400]
    async with runtime.db.session(ALL) as session:
        (wallet,) = await session.scalars(select(Wallet))
    assert wallet.balance_minor == 0
    assert sum(r.amount_minor for r in await ledger(runtime)) == 0


async def test_first_posts_at_once_create_one_wallet(
    gql: GraphQLClient, runtime: Runtime, writer: str
) -> None:
    user = await quick_account(runtime, "wallet-shop")
    answers = await asyncio.gather(*(post(gql, writer, user, 10) for _ in range(4)))
    assert all(a["userErrors"] == [] for a in answers)
    async with runtime.db.session(ALL) as session:
        (wallet,) = await session.scalars(select(Wallet))
    assert wallet.balance_minor == 40


async def test_a_repeated_reference_posts_once(gql: GraphQLClient, runtime: Runtime, writer: str) -> None:
    user = await quick_account(runtime, "wallet-shop")
    first = await post(gql, writer, user, 700, reference="refund-9")
    again = await post(gql, writer, user, 700, reference="refund-9")
    assert again["replayed"] is True and again["userErrors"] == []
    assert again["entry"]["id"] == first["entry"]["id"]
    assert again["wallet"]["balanceMinor"] == 700
    changed = await post(gql, writer, user, 701, reference="refund-9")
    assert [(e["field"], e["code"]) for e in changed["userErrors"]] == [
        (["input", "reference"], "REFERENCE_REUSED")
    ]
    # another user's reference space is their own
    other = await quick_account(runtime, "wallet-shop")
    assert (await post(gql, writer, other, 5, reference="refund-9"))["userErrors"] == []
    assert len(await ledger(runtime)) == 2


async def test_bad_entries_are_refused(gql: GraphQLClient, runtime: Runtime, writer: str) -> None:
    user = await quick_account(runtime, "wallet-shop")
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"amountMinor": 0}, "amountMinor", "INVALID_AMOUNT"),
        ({"amountMinor": 10**12 + 1}, "amountMinor", "INVALID_AMOUNT"),
        ({"reason": "   "}, "reason", "REQUIRED"),
        ({"reason": "x" * 501}, "reason", "TOO_LONG"),
        ({"reference": "r" * 201}, "reference", "TOO_LONG"),
        ({"currency": "USD"}, "currency", "CURRENCY_MISMATCH"),
    ]
    for fields, field, code in cases:
        variables = {"input": {"userId": user.gid, "amountMinor": 1, "reason": "x", **fields}}
        payload = (await gql(POST, variables, token=writer)).ok()["postWalletEntry"]
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["input", field], code)], fields
    long_currency = {"input": {"userId": user.gid, "amountMinor": 1, "reason": "x", "currency": "EURO"}}
    payload = (await gql(POST, long_currency, token=writer)).ok()["postWalletEntry"]
    assert [e["code"] for e in payload["userErrors"]] == ["TOO_LONG"]
    unknown = {"input": {"userId": global_id("User", user.tenant_id), "amountMinor": 1, "reason": "x"}}
    assert (await gql(POST, unknown, token=writer)).error_codes == ["NOT_FOUND"]
    not_a_user = {"input": {"userId": user.tenant_gid, "amountMinor": 1, "reason": "x"}}
    assert (await gql(POST, not_a_user, token=writer)).error_codes == ["NOT_FOUND"]
    fractional = {"input": {"userId": user.gid, "amountMinor": 1.5, "reason": "x"}}
    assert (await gql(POST, fractional, token=writer)).error_codes == ["BAD_USER_INPUT"]
    assert await ledger(runtime) == []


async def test_who_may_post_and_read(
    gql: GraphQLClient, http: httpx.AsyncClient, runtime: Runtime, writer: str
) -> None:
    user = await quick_account(runtime, "wallet-shop")
    admin = await quick_account(runtime, "wallet-shop", Role.TENANT_ADMIN)
    variables = {"input": {"userId": user.gid, "amountMinor": 100, "reason": "gift"}}
    for caller in (user, admin):  # tenant roles do not suffice, the owner neither
        assert (await gql(POST, variables, token=caller.token)).error_codes == ["FORBIDDEN"]
    reader = await service_token(gql, http, runtime, ["WALLET_READ"])
    assert (await gql(POST, variables, token=reader)).error_codes == ["FORBIDDEN"]
    unrelated = await service_token(gql, http, runtime, ["AUDIT_WRITE"])
    assert (await gql(POST, variables, token=unrelated)).error_codes == ["FORBIDDEN"]
    assert (await gql(POST, variables)).error_codes == ["UNAUTHENTICATED"]
    assert await ledger(runtime) == []

    platform = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    posted = (await gql(POST, variables, token=platform.token)).ok()["postWalletEntry"]
    assert posted["wallet"]["balanceMinor"] == 100
    (row,) = await ledger(runtime)
    assert row.posted_by == platform.user_id

    for token in (reader, writer, platform.token):
        read = (await gql(USER_WALLET, {"id": user.gid}, token=token)).ok()["userWallet"]
        assert read["balanceMinor"] == 100
    assert (await gql(USER_WALLET, {"id": user.gid}, token=unrelated)).error_codes == ["FORBIDDEN"]
    assert (await gql(USER_WALLET, {"id": user.gid}, token=admin.token)).error_codes == ["FORBIDDEN"]
    assert (await gql(USER_WALLET, {"id": user.tenant_gid}, token=reader)).error_codes == ["NOT_FOUND"]


async def test_others_see_no_wallet_of_a_user(gql: GraphQLClient, runtime: Runtime, writer: str) -> None:
    user = await quick_account(runtime, "wallet-shop")
    await post(gql, writer, user, 42)
    admin = await quick_account(runtime, "wallet-shop", Role.TENANT_ADMIN)
    query = "query($id: ID!) { node(id: $id) { ... on User { wallet { balanceMinor } } } }"
    assert (await gql(query, {"id": user.gid}, token=admin.token)).ok()["node"] == {"wallet": None}
    assert (await gql(query, {"id": user.gid}, token=user.token)).ok()["node"] == {
        "wallet": {"balanceMinor": 42}
    }
    stranger = await quick_account(runtime, "wallet-other", Role.TENANT_ADMIN)
    assert (await gql(query, {"id": user.gid}, token=stranger.token)).error_codes == ["NOT_FOUND"]


async def test_wallets_of_many_users_load_in_constant_statements(
    gql: GraphQLClient, runtime: Runtime, writer: str
) -> None:
    platform = await quick_account(runtime, PLATFORM_TENANT_SLUG, Role.PLATFORM_ADMIN)
    query = (
        "{ users(first: 50) { nodes { wallet { balanceMinor entries(first: 2) { totalCount "
        "nodes { amountMinor } } } } } }"
    )

    async def statements() -> tuple[int, list[Any]]:
        await gql.warm(platform.token)
        with count_statements(runtime.db.engine) as counter:
            nodes = (await gql(query, token=platform.token)).ok()["users"]["nodes"]
        return counter.count, nodes

    users = [await quick_account(runtime, "wallet-shop") for _ in range(2)]
    for user in users:
        await post(gql, writer, user, 10)
    few, _ = await statements()
    users += [await quick_account(runtime, "wallet-shop") for _ in range(4)]
    for user in users:
        await post(gql, writer, user, 5)
        await post(gql, writer, user, 1)
    many, nodes = await statements()
    assert many == few
    wallets = [n["wallet"] for n in nodes if n["wallet"]["entries"]["totalCount"]]
    assert len(wallets) == 6
    assert all(len(w["entries"]["nodes"]) == 2 for w in wallets)


async def test_the_daily_quota_counts_and_refuses(gql: GraphQLClient, runtime: Runtime, writer: str) -> None:
    user = await quick_account(runtime, "wallet-shop")
    limits = {"input": {"userId": user.gid, "dailyQuota": 3, "parallelRenderingCeiling": 2}}
    quota = (await gql(SET_QUOTA, limits, token=writer)).ok()["setWalletQuota"]["wallet"]
    assert (quota["dailyQuota"]["limit"], quota["parallelRenderingCeiling"]) == (3, 2)

    async def consume(count: int) -> dict[str, Any]:
        variables = {"input": {"userId": user.gid, "count": count}}
        answer: dict[str, Any] = (await gql(CONSUME, variables, token=writer)).ok()["consumeDailyQuota"]
        return answer

    assert (await consume(2))["wallet"]["dailyQuota"]["remaining"] == 1
    over = await consume(2)
    assert [(e["field"], e["code"]) for e in over["userErrors"]] == [
        (["input", "count"], "DAILY_QUOTA_EXCEEDED")
    ]
    assert (await consume(1))["wallet"]["dailyQuota"]["remaining"] == 0
    given_back = (await consume(-1))["wallet"]["dailyQuota"]
    assert (given_back["usedToday"], given_back["remaining"]) == (2, 1)
    for bad in (0, 1001, -1001):
        assert [e["code"] for e in (await consume(bad))["userErrors"]] == ["INVALID_AMOUNT"]
    me = (await gql(ME, token=user.token)).ok()["me"]["wallet"]["dailyQuota"]
    assert (me["limit"], me["usedToday"], me["remaining"]) == (3, 2, 1)

    # yesterday's count does not count today
    async with runtime.db.transaction(ALL) as session:
        await session.execute(update(Wallet).values(quota_day=datetime.now(UTC).date() - timedelta(days=1)))
    me = (await gql(ME, token=user.token)).ok()["me"]["wallet"]["dailyQuota"]
    assert (me["usedToday"], me["remaining"]) == (0, 3)
    assert (await consume(3))["wallet"]["dailyQuota"]["usedToday"] == 3

    reset = {"input": {"userId": user.gid, "useDefaults": True}}
    wallet = (await gql(SET_QUOTA, reset, token=writer)).ok()["setWalletQuota"]["wallet"]
    assert wallet["dailyQuota"]["limit"] == runtime.settings.wallet_daily_quota
    assert wallet["parallelRenderingCeiling"] == runtime.settings.wallet_parallel_ceiling
    out_of_range = {"input": {"userId": user.gid, "dailyQuota": -1, "parallelRenderingCeiling": 1001}}
    errors = (await gql(SET_QUOTA, out_of_range, token=writer)).ok()["setWalletQuota"]["userErrors"]
    assert sorted((e["field"][1], e["code"]) for e in errors) == [
        ("dailyQuota", "OUT_OF_RANGE"),
        ("parallelRenderingCeiling", "OUT_OF_RANGE"),
    ]
    assert (await gql(CONSUME, {"input": {"userId": user.gid}}, token=user.token)).error_codes == [
        "FORBIDDEN"
    ]


async def test_a_deleted_user_gets_no_entries(gql: GraphQLClient, runtime: Runtime, writer: str) -> None:
    admin = await quick_account(runtime, "wallet-shop", Role.TENANT_ADMIN)
    user = await quick_account(runtime, "wallet-shop")
    deleted = "mutation($id: ID!) { deleteUser(input: {id: $id}) { userErrors { code } } }"
    assert (await gql(deleted, {"id": user.gid}, token=admin.token)).ok()["deleteUser"]["userErrors"] == []
    refused = await post(gql, writer, user, 5)
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [(["input", "userId"], "USER_DELETED")]


async def test_the_ledger_is_append_only(gql: GraphQLClient, runtime: Runtime, writer: str) -> None:
    user = await quick_account(runtime, "wallet-shop")
    await post(gql, writer, user, 5)
    async with runtime.db.session(ALL) as session:
        (row,) = await session.scalars(select(WalletEntry))
        row.amount_minor = 5000
        with pytest.raises(LedgerIsAppendOnly):
            await session.flush()
        await session.rollback()
        (row,) = await session.scalars(select(WalletEntry))
        await session.delete(row)
        with pytest.raises(LedgerIsAppendOnly):
            await session.flush()
    assert [r.amount_minor for r in await ledger(runtime)] == [5]
    # and the database refuses a negative balance written around the service
    with pytest.raises(IntegrityError):
        async with runtime.db.transaction(ALL) as session:
            await session.execute(update(Wallet).values(balance_minor=-1))
