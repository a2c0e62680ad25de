"""Invites against real PostgreSQL: a tenant admin invites (mail with the accept link), lists,
revokes; the public preview by token; accepting creates the user or links the tenant's existing
account; the token is single use and stored hashed; every bad input is a userError."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from core.permissions import Role
from core.scope import TenantScope
from models.billing import MailMessage
from models.identity.accounts import User
from models.identity.invites import Invite
from server.runtime import Runtime
from tests.support.graphql import GraphQLClient, count_statements
from tests.support.identity import quick_account
from tests.support.mail import mailed_token

ALL = TenantScope.all_tenants()
INVITE_FIELDS = (
    "id email roles status expiresAt acceptedAt revokedAt invitedBy { email } acceptedUser { email }"
)
CREATE_INVITE = f"""
mutation($input: CreateInviteInput!) {{
  createInvite(input: $input) {{ invite {{ {INVITE_FIELDS} }} userErrors {{ field code message }} }}
}}
"""
REVOKE_INVITE = f"""
mutation($input: InviteIdInput!) {{
  revokeInvite(input: $input) {{ invite {{ {INVITE_FIELDS} }} userErrors {{ field code message }} }}
}}
"""
ACCEPT_INVITE = """
mutation($input: AcceptInviteInput!) {
  acceptInvite(input: $input) {
    accessToken refreshToken passwordChangeRequired
    user { id email fullName emailVerified roles tenant { slug } }
    userErrors { field code message }
  }
}
"""
PREVIEW = "query($token: String!) { inviteByToken(token: $token) { tenantName email roles expiresAt } }"
INVITES = f"""
query($filter: InviteFilterInput, $first: Int, $after: String) {{
  invites(filter: $filter, first: $first, after: $after) {{
    totalCount edges {{ cursor node {{ {INVITE_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""
STRONG = "a-long-new-passphrase"


async def invite(gql: GraphQLClient, token: str, email: str, **extra: Any) -> dict[str, Any]:
    result = (await gql(CREATE_INVITE, {"input": {"email": email, **extra}}, token=token)).ok()
    payload: dict[str, Any] = result["createInvite"]
    return payload


async def accept(
    gql: GraphQLClient, token: str, password: str, full_name: str | None = None
) -> dict[str, Any]:
    variables = {"input": {"token": token, "password": password, "fullName": full_name}}
    payload: dict[str, Any] = (await gql(ACCEPT_INVITE, variables)).ok()["acceptInvite"]
    return payload


def codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


async def count(runtime: Runtime, model: type[Any]) -> int:
    async with runtime.db.session(ALL) as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


# ---- the whole way ----------------------------------------------------------------------------


async def test_invite_mail_preview_and_accept_create_the_user(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN, email="admin@acme.example")
    created = await invite(gql, admin.token, "New.Person@Acme.Example", roles=["MANAGER", "AUDITOR"])
    assert created["userErrors"] == []
    sent = created["invite"]
    assert sent["email"] == "new.person@acme.example"
    assert sorted(sent["roles"]) == ["AUDITOR", "MANAGER"]
    assert sent["status"] == "PENDING"
    assert sent["invitedBy"] == {"email": "admin@acme.example"}
    expires = datetime.fromisoformat(sent["expiresAt"])
    assert timedelta(days=6, hours=23) < expires - datetime.now(UTC) <= timedelta(days=7)

    token = await mailed_token(runtime, "new.person@acme.example")
    # Stored only as its SHA-256.
    async with runtime.db.session(ALL) as session:
        row = await session.scalar(select(Invite))
    assert row is not None and row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(vars(row))

    # The public preview says what the invite offers, and nothing more.
    preview = (await gql(PREVIEW, {"token": token})).ok()["inviteByToken"]
    assert preview == {
        "tenantName": "Acme",
        "email": "new.person@acme.example",
        "roles": sent["roles"],
        "expiresAt": sent["expiresAt"],
    }
    fields = (await gql('{ __type(name: "InvitePreview") { fields { name } } }')).ok()
    assert {f["name"] for f in fields["__type"]["fields"]} == {"tenantName", "email", "roles", "expiresAt"}

    accepted = await accept(gql, token, STRONG, "New Person")
    assert accepted["userErrors"] == []
    assert accepted["accessToken"] and accepted["refreshToken"]
    assert accepted["passwordChangeRequired"] is False
    user = accepted["user"]
    assert user["email"] == "new.person@acme.example" and user["fullName"] == "New Person"
    assert user["emailVerified"] is True  # the token came to this mailbox
    assert sorted(user["roles"]) == ["AUDITOR", "MANAGER"]
    assert user["tenant"] == {"slug": "acme"}
    me = (await gql("{ me { email } }", token=accepted["accessToken"])).ok()
    assert me == {"me": {"email": "new.person@acme.example"}}
    login = (
        await gql(
            "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
            {"i": {"tenantSlug": "acme", "email": "new.person@acme.example", "password": STRONG}},
        )
    ).ok()
    assert login["login"]["accessToken"]

    # Single use: a second acceptance is refused, the preview is gone, the list says ACCEPTED.
    again = await accept(gql, token, STRONG, "New Person")
    assert codes(again) == ["INVITE_ALREADY_ACCEPTED"] and again["accessToken"] is None
    assert (await gql(PREVIEW, {"token": token})).ok()["inviteByToken"] is None
    listed = (await gql(INVITES, {}, token=admin.token)).ok()["invites"]
    node = listed["edges"][0]["node"]
    assert node["status"] == "ACCEPTED" and node["acceptedAt"]
    assert node["acceptedUser"] == {"email": "new.person@acme.example"}
    assert await count(runtime, User) == 2


async def test_accepting_links_the_tenants_existing_account_by_its_password(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    await invite(gql, admin.token, "late@acme.example", roles=["TENANT_ADMIN"])
    token = await mailed_token(runtime, "late@acme.example")
    # The invitee signed up on their own after the invite went out.
    existing = await quick_account(runtime, "acme", email="late@acme.example")

    wrong = await accept(gql, token, "not-their-password")
    assert codes(wrong) == ["INVALID_CREDENTIALS"] and wrong["accessToken"] is None
    assert (await gql(PREVIEW, {"token": token})).ok()["inviteByToken"] is not None  # still pending

    linked = await accept(gql, token, existing.password)
    assert linked["userErrors"] == []
    assert linked["user"]["id"] == existing.gid
    assert sorted(linked["user"]["roles"]) == ["TENANT_ADMIN", "USER"]
    assert await count(runtime, User) == 2  # nobody new
    # The roles hold for the user's other session too (the access store dropped it).
    staff_read = await gql("{ users { totalCount } }", token=existing.token)
    assert staff_read.ok()["users"]["totalCount"] == 2


async def test_two_acceptances_at_once_one_wins(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    await invite(gql, admin.token, "race@acme.example")
    token = await mailed_token(runtime, "race@acme.example")
    results = await asyncio.gather(*(accept(gql, token, STRONG, "Racer") for _ in range(2)))
    assert sorted(str(codes(r)) for r in results) == ["['INVITE_ALREADY_ACCEPTED']", "[]"]
    assert await count(runtime, User) == 2


# ---- refusals -------------------------------------------------------------------------------------


async def test_expired_revoked_and_unknown_tokens_are_refused(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    await invite(gql, admin.token, "old@acme.example", expiresAt=soon)
    old_token = await mailed_token(runtime, "old@acme.example")
    async with runtime.db.transaction(ALL) as session:
        await session.execute(update(Invite).values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    assert codes(await accept(gql, old_token, STRONG, "Old")) == ["INVITE_EXPIRED"]
    assert (await gql(PREVIEW, {"token": old_token})).ok()["inviteByToken"] is None

    revoked = (await invite(gql, admin.token, "gone@acme.example"))["invite"]
    gone_token = await mailed_token(runtime, "gone@acme.example")
    answer = (await gql(REVOKE_INVITE, {"input": {"id": revoked["id"]}}, token=admin.token)).ok()
    assert answer["revokeInvite"]["invite"]["status"] == "REVOKED"
    assert codes(await accept(gql, gone_token, STRONG, "Gone")) == ["INVITE_REVOKED"]
    twice = (await gql(REVOKE_INVITE, {"input": {"id": revoked["id"]}}, token=admin.token)).ok()
    assert codes(twice["revokeInvite"]) == ["INVITE_NOT_PENDING"]

    for unknown in ("inv_" + "x" * 43, "nonsense", old_token + "x"):
        assert codes(await accept(gql, unknown, STRONG, "Nobody")) == ["INVALID_INVITE"]
        assert (await gql(PREVIEW, {"token": unknown})).ok()["inviteByToken"] is None
    over_long = "inv_" + "y" * 300
    assert codes(await accept(gql, over_long, STRONG, "Nobody")) == ["TOO_LONG"]
    assert (await gql(PREVIEW, {"token": over_long})).error_codes == ["BAD_USER_INPUT"]
    assert await count(runtime, User) == 1


async def test_a_new_invite_of_an_address_replaces_the_pending_one(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    await invite(gql, admin.token, "twice@acme.example", roles=["USER"])
    first = await mailed_token(runtime, "twice@acme.example")
    await invite(gql, admin.token, "twice@acme.example", roles=["MANAGER"])
    second = await mailed_token(runtime, "twice@acme.example")
    assert first != second
    assert codes(await accept(gql, first, STRONG, "Twice")) == ["INVITE_REVOKED"]
    accepted = await accept(gql, second, STRONG, "Twice")
    assert accepted["user"]["roles"] == ["MANAGER"]


async def test_new_account_inputs_are_checked_and_leave_the_invite_pending(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    await invite(gql, admin.token, "picky@acme.example")
    token = await mailed_token(runtime, "picky@acme.example")
    refused = await accept(gql, token, "short", None)
    assert sorted(codes(refused)) == ["REQUIRED", "WEAK_PASSWORD"]
    assert {tuple(e["field"]) for e in refused["userErrors"]} == {
        ("input", "fullName"),
        ("input", "password"),
    }
    assert (await gql(PREVIEW, {"token": token})).ok()["inviteByToken"] is not None
    assert (await accept(gql, token, STRONG, "Picky"))["userErrors"] == []


async def test_create_invite_bad_inputs_are_user_errors(runtime: Runtime, gql: GraphQLClient) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN, email="admin@acme.example")
    await quick_account(runtime, "acme", email="member@acme.example")
    now = datetime.now(UTC)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"email": "MEMBER@acme.example"}, "ALREADY_MEMBER"),
        ({"email": "not an address"}, "INVALID_EMAIL"),
        ({"email": "a@acme.example", "roles": []}, "INVALID_ROLE"),
        ({"email": "a@acme.example", "roles": ["PLATFORM_ADMIN"]}, "INVALID_ROLE"),
        (
            {"email": "a@acme.example", "expiresAt": (now - timedelta(minutes=1)).isoformat()},
            "INVALID_EXPIRY",
        ),
        ({"email": "a@acme.example", "expiresAt": (now + timedelta(days=31)).isoformat()}, "INVALID_EXPIRY"),
    ]
    for extra, code in cases:
        payload = (await gql(CREATE_INVITE, {"input": extra}, token=admin.token)).ok()["createInvite"]
        assert codes(payload) == [code], (extra, payload)
        assert payload["invite"] is None
    # An unknown role name is refused by the schema (the enum), not by a 500.
    bad_role = await gql(
        CREATE_INVITE, {"input": {"email": "a@acme.example", "roles": ["GOD"]}}, token=admin.token
    )
    assert bad_role.error_codes == ["BAD_USER_INPUT"]
    # Non-admins are refused by the field's @hasRole(TENANT_ADMIN).
    for role in (Role.USER, Role.MANAGER):
        member = await quick_account(runtime, "acme", role)
        denied = await gql(CREATE_INVITE, {"input": {"email": "b@acme.example"}}, token=member.token)
        assert denied.error_codes == ["FORBIDDEN"] and denied.data is None
    assert await count(runtime, Invite) == 0
    assert await count(runtime, MailMessage) == 0


# ---- listing ------------------------------------------------------------------------------------


async def test_invites_are_listed_by_status_newest_first_per_tenant(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    other = await quick_account(runtime, "globex", Role.TENANT_ADMIN)
    await invite(gql, other.token, "elsewhere@globex.example")
    ids = {}
    for name in ("one", "two", "three", "four"):
        ids[name] = (await invite(gql, admin.token, f"{name}@acme.example"))["invite"]["id"]
    (await gql(REVOKE_INVITE, {"input": {"id": ids["two"]}}, token=admin.token)).ok()
    async with runtime.db.transaction(ALL) as session:
        await session.execute(
            update(Invite)
            .where(Invite.email == "three@acme.example")
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )

    async def emails(status: str | None, **page: Any) -> list[str]:
        variables = {"filter": {"status": status} if status else None, **page}
        listed = (await gql(INVITES, variables, token=admin.token)).ok()["invites"]
        return [edge["node"]["email"] for edge in listed["edges"]]

    assert await emails(None) == [f"{n}@acme.example" for n in ("four", "three", "two", "one")]
    assert await emails("PENDING") == ["four@acme.example", "one@acme.example"]
    assert await emails("REVOKED") == ["two@acme.example"]
    assert await emails("EXPIRED") == ["three@acme.example"]
    assert await emails("ACCEPTED") == []

    first = (await gql(INVITES, {"first": 3}, token=admin.token)).ok()["invites"]
    assert first["totalCount"] == 4 and first["pageInfo"]["hasNextPage"] is True
    rest = await emails(None, first=3, after=first["pageInfo"]["endCursor"])
    assert rest == ["one@acme.example"]

    # Another tenant's admin neither lists nor revokes them; non-admins do not list at all.
    assert [
        e["node"]["email"] for e in (await gql(INVITES, {}, token=other.token)).ok()["invites"]["edges"]
    ] == ["elsewhere@globex.example"]
    foreign = await gql(REVOKE_INVITE, {"input": {"id": ids["one"]}}, token=other.token)
    assert foreign.error_codes == ["NOT_FOUND"]
    member = await quick_account(runtime, "acme")
    assert (await gql(INVITES, {}, token=member.token)).error_codes == ["FORBIDDEN"]
    node = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": ids["one"]}, token=member.token)
    assert node.error_codes == ["NOT_FOUND"]
    seen = await gql(
        "query($id: ID!) { node(id: $id) { ... on Invite { email } } }", {"id": ids["one"]}, token=admin.token
    )
    assert seen.ok() == {"node": {"email": "one@acme.example"}}


async def test_listing_invites_with_their_people_costs_the_same_for_more_rows(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    await gql.warm(admin.token)

    async def statements() -> int:
        with count_statements(runtime.db.engine) as counter:
            listed = (await gql(INVITES, {}, token=admin.token)).ok()["invites"]
            assert all(edge["node"]["invitedBy"] for edge in listed["edges"])
        return counter.count

    for name in ("a", "b"):
        await invite(gql, admin.token, f"{name}@acme.example")
    few = await statements()
    for name in ("c", "d", "e", "f", "g"):
        await invite(gql, admin.token, f"{name}@acme.example")
    accepted = await mailed_token(runtime, "g@acme.example")
    assert (await accept(gql, accepted, STRONG, "G"))["userErrors"] == []
    assert await statements() == few
    # the page, the total, and the people of the page (invitedBy and acceptedUser share a batch)
    assert few <= 4
