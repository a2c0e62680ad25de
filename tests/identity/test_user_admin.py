"""User administration against real PostgreSQL (seed 003): a tenant admin creates users (with a
one-time password), bans them until a date, deletes (anonymises) them and forces a password
change; a session that must change its password may do nothing else until it has."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from core.permissions import Role
from core.scope import TenantScope
from models.billing import Invoice, MailMessage
from models.identity.accounts import AuthSession, User, UserRole
from models.orders import Order
from server.runtime import Runtime
from tests.support.graphql import GraphQLClient, GraphQLResult
from tests.support.identity import PASSWORD, Account, global_id, quick_account

ALL = TenantScope.all_tenants()
USER_FIELDS = "id email fullName status roles banned banReason bannedUntil"
PAYLOAD = f"user {{ {USER_FIELDS} }} userErrors {{ field code message }}"
CREATE_USER = f"""
mutation($input: CreateUserInput!) {{
  createUser(input: $input) {{ oneTimePassword {PAYLOAD} }}
}}
"""
BAN_USER = f"mutation($input: BanUserInput!) {{ banUser(input: $input) {{ {PAYLOAD} }} }}"
UNBAN_USER = f"mutation($input: UserIdInput!) {{ unbanUser(input: $input) {{ {PAYLOAD} }} }}"
DELETE_USER = f"mutation($input: UserIdInput!) {{ deleteUser(input: $input) {{ {PAYLOAD} }} }}"
FORCE_RESET = f"mutation($input: UserIdInput!) {{ forcePasswordReset(input: $input) {{ {PAYLOAD} }} }}"
REACTIVATE = f"mutation($input: UserIdInput!) {{ reactivateUser(input: $input) {{ {PAYLOAD} }} }}"
LOGIN = """
mutation($input: LoginInput!) {
  login(input: $input) { accessToken passwordChangeRequired userErrors { code message } }
}
"""
CHANGE_PASSWORD = """
mutation($input: ChangePasswordInput!) { changePassword(input: $input) { userErrors { code } } }
"""
NEW_PASSWORD = "a-fresh-passphrase-2"


async def login(gql: GraphQLClient, slug: str, email: str, password: str) -> dict[str, Any]:
    variables = {"input": {"tenantSlug": slug, "email": email, "password": password}}
    payload: dict[str, Any] = (await gql(LOGIN, variables)).ok()["login"]
    return payload


async def mutate(gql: GraphQLClient, query: str, token: str, **values: Any) -> dict[str, Any]:
    data = (await gql(query, {"input": values}, token=token)).ok()
    payload: dict[str, Any] = next(iter(data.values()))
    return payload


def codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


def password_change_refusal(result: GraphQLResult) -> None:
    assert result.data is None or all(v is None for v in result.data.values()), result.body
    assert result.error_codes == ["FORBIDDEN"], result.body
    assert result.errors[0]["extensions"]["reason"] == "PASSWORD_CHANGE_REQUIRED"


async def user_row(runtime: Runtime, user_id: uuid.UUID) -> User:
    async with runtime.db.session(ALL) as session:
        return await session.get_one(User, user_id)


async def id_of(runtime: Runtime, email: str) -> uuid.UUID:
    async with runtime.db.session(ALL) as session:
        found = await session.scalar(select(User.id).where(User.email == email))
    assert found is not None
    return found


# ---- creating users, and the password change they must make -----------------------------------


async def test_created_user_with_a_one_time_password_must_change_it_first(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    created = await mutate(
        gql,
        CREATE_USER,
        admin.token,
        email="Fresh@Acme.Example",
        fullName="Fresh Face",
        roles=["TENANT_ADMIN"],
    )
    assert created["userErrors"] == []
    otp = created["oneTimePassword"]
    assert isinstance(otp, str) and len(otp) >= 12
    assert created["user"]["email"] == "fresh@acme.example" and created["user"]["roles"] == ["TENANT_ADMIN"]

    signed_in = await login(gql, "acme", "fresh@acme.example", otp)
    assert signed_in["userErrors"] == [] and signed_in["passwordChangeRequired"] is True
    token = signed_in["accessToken"]

    # Only me, changePassword and logout(All): everything else is FORBIDDEN with the reason.
    assert (await gql("{ me { email } }", token=token)).ok() == {"me": {"email": "fresh@acme.example"}}
    password_change_refusal(await gql("{ users { totalCount } }", token=token))
    password_change_refusal(await gql("{ tenant { slug } }", token=token))
    update_me = 'mutation { updateMe(input: {fullName: "X"}) { userErrors { code } } }'
    password_change_refusal(await gql(update_me, token=token))
    password_change_refusal(await gql("{ me { email } users { totalCount } }", token=token))
    # (the reason is only for sessions that must change: an anonymous caller is UNAUTHENTICATED)
    assert (await gql("{ users { totalCount } }")).error_codes == ["UNAUTHENTICATED"]

    changed = (
        await gql(
            CHANGE_PASSWORD, {"input": {"currentPassword": otp, "newPassword": NEW_PASSWORD}}, token=token
        )
    ).ok()
    assert changed["changePassword"]["userErrors"] == []
    # The same session may now do what a TENANT_ADMIN may (its cached access state was dropped).
    assert (await gql("{ users { totalCount } }", token=token)).ok()["users"]["totalCount"] == 2
    assert (await user_row(runtime, await id_of(runtime, "fresh@acme.example"))).must_change_password is False
    again = await login(gql, "acme", "fresh@acme.example", NEW_PASSWORD)
    assert again["passwordChangeRequired"] is False


async def test_created_user_with_a_given_password_signs_in_freely(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    created = await mutate(
        gql, CREATE_USER, admin.token, email="given@acme.example", fullName="Given", password=NEW_PASSWORD
    )
    assert created["userErrors"] == [] and created["oneTimePassword"] is None
    assert created["user"]["roles"] == ["USER"]
    signed_in = await login(gql, "acme", "given@acme.example", NEW_PASSWORD)
    assert signed_in["passwordChangeRequired"] is False
    assert (await gql("{ tenant { slug } }", token=signed_in["accessToken"])).ok() == {
        "tenant": {"slug": "acme"}
    }


async def test_create_user_bad_inputs_are_user_errors(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    await quick_account(runtime, "acme", email="taken@acme.example")
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"email": "TAKEN@acme.example", "fullName": "T"}, ["CONFLICT"]),
        ({"email": "n@acme.example", "fullName": "N", "roles": []}, ["INVALID_ROLE"]),
        ({"email": "n@acme.example", "fullName": "N", "roles": ["PLATFORM_ADMIN"]}, ["INVALID_ROLE"]),
        ({"email": "n@acme.example", "fullName": "N", "password": "password"}, ["WEAK_PASSWORD"]),
        ({"email": "nope", "fullName": " "}, ["INVALID_EMAIL", "REQUIRED"]),
    ]
    for values, expected in cases:
        payload = await mutate(gql, CREATE_USER, admin.token, **values)
        assert sorted(codes(payload)) == expected, (values, payload)
        assert payload["user"] is None and payload["oneTimePassword"] is None
    member = await quick_account(runtime, "acme", Role.MANAGER)
    denied = await gql(
        CREATE_USER, {"input": {"email": "m@acme.example", "fullName": "M"}}, token=member.token
    )
    assert denied.error_codes == ["FORBIDDEN"]
    async with runtime.db.session(ALL) as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 3


# ---- bans ------------------------------------------------------------------------------------------


async def test_a_banned_user_cannot_sign_in_until_the_unblock_date(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    user = await quick_account(runtime, "acme", email="rowdy@acme.example")
    until = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    banned = await mutate(
        gql, BAN_USER, admin.token, id=user.gid, reason="  Spam  ", unblockAt=until.isoformat()
    )
    assert banned["userErrors"] == []
    assert banned["user"]["banned"] is True and banned["user"]["banReason"] == "Spam"
    assert datetime.fromisoformat(banned["user"]["bannedUntil"]) == until
    assert banned["user"]["status"] == "ACTIVE"

    # Their session ended at once; sign-in answers the ban with its date.
    assert (await gql("{ me { email } }", token=user.token)).error_codes == ["UNAUTHENTICATED"]
    refused = await login(gql, "acme", user.email, PASSWORD)
    assert refused["accessToken"] is None
    assert [e["code"] for e in refused["userErrors"]] == ["ACCOUNT_BANNED"]
    assert until.isoformat() in refused["userErrors"][0]["message"]
    refresh_token = "mutation($t: String!) { refreshToken(input: {refreshToken: $t}) { accessToken } }"
    refresh = await gql(refresh_token, {"t": user.refresh_token})
    assert refresh.ok()["refreshToken"]["accessToken"] is None

    # Once the date has passed, sign-in works again by itself.
    async with runtime.db.transaction(ALL) as session:
        await session.execute(
            update(User)
            .where(User.id == user.user_id)
            .values(banned_until=datetime.now(UTC) - timedelta(seconds=1))
        )
    again = await login(gql, "acme", user.email, PASSWORD)
    assert again["userErrors"] == [] and again["accessToken"]
    me = (await gql("{ me { banned bannedUntil banReason } }", token=again["accessToken"])).ok()
    assert me == {"me": {"banned": False, "bannedUntil": None, "banReason": None}}


async def test_a_ban_without_date_lasts_until_lifted(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    user = await quick_account(runtime, "acme")
    banned = await mutate(gql, BAN_USER, admin.token, id=user.gid, reason="Abuse")
    assert banned["user"]["banned"] is True and banned["user"]["bannedUntil"] is None
    refused = await login(gql, "acme", user.email, PASSWORD)
    assert [e["code"] for e in refused["userErrors"]] == ["ACCOUNT_BANNED"]
    assert "until an administrator lifts it" in refused["userErrors"][0]["message"]
    lifted = await mutate(gql, UNBAN_USER, admin.token, id=user.gid)
    assert lifted["user"]["banned"] is False
    assert (await login(gql, "acme", user.email, PASSWORD))["accessToken"]


async def test_ban_bad_inputs_are_user_errors(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    user = await quick_account(runtime, "acme")
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"id": admin.gid, "reason": "Me"}, ["CANNOT_BAN_SELF"]),
        ({"id": user.gid, "reason": "Late", "unblockAt": past}, ["INVALID_EXPIRY"]),
        ({"id": user.gid, "reason": "   "}, ["REQUIRED"]),
        ({"id": user.gid, "reason": "x" * 501}, ["TOO_LONG"]),
    ]
    for values, expected in cases:
        payload = await mutate(gql, BAN_USER, admin.token, **values)
        assert codes(payload) == expected, (values, payload)
    assert (await user_row(runtime, user.user_id)).banned_at is None
    assert (await gql("{ me { email } }", token=user.token)).ok()  # the session still works
    # Another tenant's user is out of reach; a non-admin may not ban.
    stranger = await quick_account(runtime, "globex")
    foreign = await gql(BAN_USER, {"input": {"id": stranger.gid, "reason": "No"}}, token=admin.token)
    assert foreign.error_codes == ["NOT_FOUND"]
    denied = await gql(BAN_USER, {"input": {"id": admin.gid, "reason": "Coup"}}, token=user.token)
    assert denied.error_codes == ["FORBIDDEN"]


# ---- deletion ------------------------------------------------------------------------------------


async def _order_and_invoice(runtime: Runtime, account: Account) -> tuple[uuid.UUID, uuid.UUID]:
    order_id, invoice_id = uuid.uuid4(), uuid.uuid4()
    async with runtime.db.transaction(TenantScope.of(account.tenant_id)) as session:
        session.add(
            Order(
                id=order_id,
                number="ORD-1",
                user_id=account.user_id,
                currency="EUR",
                subtotal=1000,
                total=1000,
            )
        )
        await session.flush()
        session.add(
            Invoice(
                id=invoice_id,
                number="INV-2026-000001",
                customer_id=account.user_id,
                order_id=order_id,
                currency="EUR",
                subtotal=1000,
                total=1000,
            )
        )
    return order_id, invoice_id


async def test_deleting_anonymises_and_keeps_orders_and_invoices(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    user = await quick_account(
        runtime, "acme", Role.MANAGER, email="leaving@acme.example", full_name="Lee Ving"
    )
    order_id, invoice_id = await _order_and_invoice(runtime, user)

    deleted = await mutate(gql, DELETE_USER, admin.token, id=user.gid)
    assert deleted["userErrors"] == []
    assert deleted["user"] == {
        "id": user.gid,
        "email": f"deleted-{user.user_id.hex}@deleted.invalid",
        "fullName": "Deleted user",
        "status": "DELETED",
        "roles": [],
        "banned": False,
        "banReason": None,
        "bannedUntil": None,
    }
    async with runtime.db.session(ALL) as session:
        assert await session.scalar(select(Order.user_id).where(Order.id == order_id)) == user.user_id
        assert (
            await session.scalar(select(Invoice.customer_id).where(Invoice.id == invoice_id)) == user.user_id
        )
        assert (
            await session.scalar(
                select(func.count()).select_from(UserRole).where(UserRole.user_id == user.user_id)
            )
            == 0
        )
        open_sessions = (
            select(func.count())
            .select_from(AuthSession)
            .where(AuthSession.user_id == user.user_id, AuthSession.revoked_at.is_(None))
        )
        assert await session.scalar(open_sessions) == 0
        row = await session.get_one(User, user.user_id)
    assert "leaving" not in str(vars(row)) and "Lee" not in str(vars(row))
    # Their token and their old credentials are dead; staff still see the order's (anonymised) buyer.
    assert (await gql("{ me { email } }", token=user.token)).error_codes == ["UNAUTHENTICATED"]
    assert [
        e["code"] for e in (await login(gql, "acme", "leaving@acme.example", PASSWORD))["userErrors"]
    ] == ["INVALID_CREDENTIALS"]
    order_gid = global_id("Order", order_id)
    seen = (
        await gql(
            "query($id: ID!) { order(id: $id) { user { fullName status } } }",
            {"id": order_gid},
            token=admin.token,
        )
    ).ok()
    assert seen == {"order": {"user": {"fullName": "Deleted user", "status": "DELETED"}}}

    # Nothing more changes about them; the address is free again.
    assert codes(await mutate(gql, DELETE_USER, admin.token, id=user.gid)) == ["USER_DELETED"]
    assert codes(await mutate(gql, REACTIVATE, admin.token, id=user.gid)) == ["USER_DELETED"]
    assert codes(await mutate(gql, BAN_USER, admin.token, id=user.gid, reason="x")) == ["USER_DELETED"]
    assert codes(await mutate(gql, FORCE_RESET, admin.token, id=user.gid)) == ["USER_DELETED"]
    recreated = await mutate(
        gql, CREATE_USER, admin.token, email="leaving@acme.example", fullName="Lee Again"
    )
    assert recreated["userErrors"] == []


async def test_deleting_yourself_is_refused(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    assert codes(await mutate(gql, DELETE_USER, admin.token, id=admin.gid)) == ["CANNOT_DELETE_SELF"]
    assert (await gql("{ me { status } }", token=admin.token)).ok() == {"me": {"status": "ACTIVE"}}


# ---- forced password reset ------------------------------------------------------------------------


async def test_a_forced_reset_ends_sessions_mails_and_limits_the_next_session(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    user = await quick_account(runtime, "acme", Role.TENANT_ADMIN, email="forgetful@acme.example")
    await gql.warm(user.token)  # its access state is in the store: the reset must drop it
    forced = await mutate(gql, FORCE_RESET, admin.token, id=user.gid)
    assert forced["userErrors"] == []
    assert (await gql("{ me { email } }", token=user.token)).error_codes == ["UNAUTHENTICATED"]
    async with runtime.db.session(ALL) as session:
        mails = list(await session.scalars(select(MailMessage).where(MailMessage.to_address == user.email)))
    assert [m.subject for m in mails] == ["Please choose a new password"]
    assert "http://127.0.0.1:8000" in mails[0].body_text

    signed_in = await login(gql, "acme", user.email, PASSWORD)
    assert signed_in["passwordChangeRequired"] is True
    token = signed_in["accessToken"]
    password_change_refusal(await gql("{ users { totalCount } }", token=token))
    logout = (await gql("mutation { logout { sessionsEnded } }", token=token)).ok()
    assert logout == {"logout": {"sessionsEnded": 1}}

    token = (await login(gql, "acme", user.email, PASSWORD))["accessToken"]
    changed = (
        await gql(
            CHANGE_PASSWORD,
            {"input": {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}},
            token=token,
        )
    ).ok()
    assert changed["changePassword"]["userErrors"] == []
    assert (await gql("{ users { totalCount } }", token=token)).ok()["users"]["totalCount"] == 2
