"""Self-service tenant signup (seed 002 POST /tenants, signup flow) and the exact lookup by name
(seed 000 GET /tenants/by-name/:name) against real PostgreSQL and Redis: the trial tenant and its
first admin, the verification mail, the setting that switches it off, the rate limit, every bad
input as a userError; public facts only, for tenants in service, null when the name is ambiguous."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from core.permissions import Role
from core.scope import TenantScope
from models.identity.accounts import Tenant, TenantStatus, User
from server.runtime import Runtime
from tests.support.graphql import GraphQLClient
from tests.support.identity import PASSWORD, quick_account
from tests.support.recovery import link_token, mails_to

ALL = TenantScope.all_tenants()
SIGN_UP = """
mutation($input: SignUpTenantInput!) {
  signUpTenant(input: $input) {
    accessToken refreshToken verificationRequired
    user { emailAddress fullName roles tenant { slug name status kind contactName contactEmail
      contactPhone trialEndsAt } }
    userErrors { field code message }
  }
}
"""
ME = "{ me { emailAddress emailVerified roles tenant { slug status } } }"
VERIFY = "mutation($input: VerifyEmailInput!) { verifyEmail(input: $input) { userErrors { code } } }"
BY_NAME = "query($name: String!) { tenantByName(name: $name) { slug name branding { displayName } } }"


@pytest.fixture
def signups_on(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime.settings, "tenant_signup_enabled", True)


def signup(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "slug": "globex",
        "name": "Globex Corporation",
        "contactName": "Hank Scorpio",
        "contactEmail": "Hank@Globex.Example",
        "contactPhone": "+49 30 1234567",
        "password": PASSWORD,
        "acceptTerms": True,
    }
    values.update(overrides)
    return {"input": values}


async def sign_up(gql: GraphQLClient, **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await gql(SIGN_UP, signup(**overrides))).ok()["signUpTenant"]
    return payload


def codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


async def test_signup_creates_a_trial_tenant_and_signs_its_admin_in(
    runtime: Runtime, gql: GraphQLClient, signups_on: None
) -> None:
    payload = await sign_up(gql)
    assert payload["userErrors"] == []
    assert payload["accessToken"] and payload["refreshToken"]
    assert payload["verificationRequired"] is True
    user = payload["user"]
    assert (user["emailAddress"], user["fullName"], user["roles"]) == (
        "hank@globex.example",
        "Hank Scorpio",
        ["TENANT_ADMIN"],
    )
    tenant = user["tenant"]
    ends = datetime.fromisoformat(tenant.pop("trialEndsAt"))
    assert tenant == {
        "slug": "globex",
        "name": "Globex Corporation",
        "status": "TRIAL",
        "kind": "ENTERPRISE",
        "contactName": "Hank Scorpio",
        "contactEmail": "hank@globex.example",
        "contactPhone": "+49301234567",
    }
    expected_end = datetime.now(UTC) + timedelta(days=runtime.settings.tenant_signup_trial_days)
    assert abs(ends - expected_end) < timedelta(minutes=1)
    # The token works: the admin is signed in to the new tenant.
    me = (await gql(ME, token=payload["accessToken"])).ok()["me"]
    assert me == {
        "emailAddress": "hank@globex.example",
        "emailVerified": False,
        "roles": ["TENANT_ADMIN"],
        "tenant": {"slug": "globex", "status": "TRIAL"},
    }
    async with runtime.db.session(ALL) as session:
        row = await session.scalar(select(User).where(User.email == "hank@globex.example"))
    assert row is not None and row.terms_accepted_at is not None
    # As registration does: a verification link, which verifies the address.
    [mail] = await mails_to(runtime, "hank@globex.example")
    assert mail.subject == "Confirm your email address"
    verified = (await gql(VERIFY, {"input": {"token": link_token(mail.body_text)}})).ok()["verifyEmail"]
    assert verified["userErrors"] == []
    assert (await gql(ME, token=payload["accessToken"])).ok()["me"]["emailVerified"] is True


async def test_signup_is_off_unless_enabled(runtime: Runtime, gql: GraphQLClient) -> None:
    assert runtime.settings.tenant_signup_enabled is False
    payload = await sign_up(gql)
    assert codes(payload) == ["TENANT_SIGNUP_DISABLED"] and payload["accessToken"] is None
    async with runtime.db.session(ALL) as session:
        assert await session.scalar(select(Tenant.id).where(Tenant.slug == "globex")) is None


async def test_signup_refuses_bad_input_all_at_once(gql: GraphQLClient, signups_on: None) -> None:
    payload = await sign_up(
        gql,
        slug="Not A Slug!",
        name=" ",
        contactName="",
        contactEmail="not-an-address",
        contactPhone="12",
        password="short",
        kind="INTERNAL",
    )
    assert sorted(codes(payload)) == sorted(
        [
            "INVALID_SLUG",
            "REQUIRED",
            "REQUIRED",
            "INVALID_EMAIL",
            "INVALID_PHONE",
            "WEAK_PASSWORD",
            "FORBIDDEN",
        ]
    )
    assert payload["accessToken"] is None
    reserved = await sign_up(gql, slug="admin")
    assert codes(reserved) == ["RESERVED_SLUG"]
    too_long = await sign_up(gql, name="x" * 201, contactName="y" * 201)
    assert codes(too_long) == ["TOO_LONG", "TOO_LONG"]


async def test_signup_refuses_a_taken_slug(runtime: Runtime, gql: GraphQLClient, signups_on: None) -> None:
    await quick_account(runtime, "globex", Role.USER)
    payload = await sign_up(gql)
    assert codes(payload) == ["CONFLICT"]
    assert payload["userErrors"][0]["field"] == ["input", "slug"]
    async with runtime.db.session(ALL) as session:
        tenants = list(await session.scalars(select(Tenant).where(Tenant.slug == "globex")))
    assert [t.status for t in tenants] == [TenantStatus.ACTIVE]  # the one there, unchanged


async def test_signup_is_rate_limited_per_client(
    runtime: Runtime, gql: GraphQLClient, signups_on: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime.settings, "tenant_signup_rate_limit_per_ip", 2)
    first = await sign_up(gql, slug="one")
    second = await sign_up(gql, slug="two", contactEmail="b@two.example")
    assert codes(first) == codes(second) == []
    third = await gql(SIGN_UP, signup(slug="three", contactEmail="c@three.example"))
    assert third.error_codes == ["RATE_LIMITED"]
    async with runtime.db.session(ALL) as session:
        assert await session.scalar(select(Tenant.id).where(Tenant.slug == "three")) is None


async def test_tenant_by_name_is_exact_public_and_in_service_only(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    await quick_account(runtime, "acme", Role.USER)  # named "Acme"
    found = (await gql(BY_NAME, {"name": "  ACME "})).ok()["tenantByName"]
    assert found == {"slug": "acme", "name": "Acme", "branding": {"displayName": None}}
    # Exact: no prefix or substring match.
    assert (await gql(BY_NAME, {"name": "Acm"})).ok()["tenantByName"] is None
    assert (await gql(BY_NAME, {"name": "Acme Inc"})).ok()["tenantByName"] is None
    # Public facts only: no private field of Tenant on PublicTenant.
    private = await gql('query { tenantByName(name: "Acme") { contactEmail } }')
    assert private.error_codes == ["BAD_USER_INPUT"]
    assert "Cannot query field 'contactEmail'" in private.errors[0]["message"]
    # A second tenant of the same name makes it ambiguous: null, look up by slug.
    await quick_account(runtime, "acme-two", Role.USER)
    async with runtime.db.transaction(ALL) as session:
        second = await session.scalar(select(Tenant).where(Tenant.slug == "acme-two"))
        assert second is not None
        second.name = "acme"
    assert (await gql(BY_NAME, {"name": "Acme"})).ok()["tenantByName"] is None
    # Once the other is suspended, the name is the first's again; a suspended one is never shown.
    async with runtime.db.transaction(ALL) as session:
        second = await session.scalar(select(Tenant).where(Tenant.slug == "acme-two"))
        assert second is not None
        second.status = TenantStatus.SUSPENDED
    assert (await gql(BY_NAME, {"name": "acme"})).ok()["tenantByName"]["slug"] == "acme"
    async with runtime.db.transaction(ALL) as session:
        first = await session.scalar(select(Tenant).where(Tenant.slug == "acme"))
        assert first is not None
        first.status = TenantStatus.SUSPENDED
    assert (await gql(BY_NAME, {"name": "acme"})).ok()["tenantByName"] is None
    too_long = await gql(BY_NAME, {"name": "x" * 201})
    assert too_long.error_codes == ["BAD_USER_INPUT"]
