"""Email addresses: one canonical form (NFKC, lower case, IDNA domain) for storing and signing in,
and no look-alike of an existing account in the same tenant (mixed scripts, TR39 skeletons)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from core.emails import email_skeleton, mixes_scripts, parse_email, skeleton
from core.permissions import Role
from core.scope import TenantScope
from models.identity.accounts import User
from server.runtime import Runtime
from tests.support.graphql import GraphQLClient
from tests.support.identity import PASSWORD, Identity

REGISTER = """
mutation($input: RegisterInput!) {
  register(input: $input) { user { email } userErrors { field code message } }
}
"""
UPDATE_USER = """
mutation($input: UpdateUserInput!) {
  updateUser(input: $input) { user { email } userErrors { field code message } }
}
"""
CYRILLIC_E = "\u0435"  # е
CYRILLIC_A = "\u0430"  # а
FULLWIDTH_U = "\uff55"  # ｕ


def test_the_canonical_form() -> None:
    def address(raw: str) -> str | None:
        parsed = parse_email(raw)
        return parsed.address if parsed is not None else None

    assert address("  User@ACME.Example ") == "user@acme.example"
    assert address(f"{FULLWIDTH_U}ser@\uff41cme.example") == "user@acme.example"  # NFKC folds
    assert address("Anna@Bücher.example") == "anna@xn--bcher-kva.example"
    assert address("anna@xn--bcher-kva.example") == "anna@xn--bcher-kva.example"
    assert address("not-an-email") is None
    assert address("a@b.example\x00") is None
    # 254 characters at most (RFC 5321), checked before any Unicode work.
    longest = "a" * 64 + "@" + ".".join(["b" * 63, "c" * 63, "d" * 53]) + ".example"
    assert len(longest) == 254 and address(longest) == longest
    assert address(longest.replace("@", "@d")) is None
    assert address("x" * 900_000 + "@acme.example") is None


def test_skeletons_match_look_alikes_only() -> None:
    real = parse_email("user@acme.example")
    assert real is not None
    for look_alike in (f"us{CYRILLIC_E}r@acme.example", f"user@{CYRILLIC_A}cme.example"):
        parsed = parse_email(look_alike)
        assert parsed is not None and parsed.address != real.address
        assert parsed.skeleton == real.skeleton
        assert parsed.mixed_script
    # A whole-script look-alike (Cyrillic р, о, р) mixes nothing, but has the same skeleton.
    cyrillic = parse_email("\u0440\u043e\u0440@acme.example")
    latin = parse_email("pop@acme.example")
    assert cyrillic is not None and latin is not None
    assert not cyrillic.mixed_script and cyrillic.skeleton == latin.skeleton
    other = parse_email("users@acme.example")
    assert other is not None and other.skeleton != real.skeleton
    # TR39 prototypes: "rn" looks like "m", "1" like "l".
    assert skeleton("rn") == skeleton("m") and skeleton("1") == skeleton("l")
    # The stored form (an xn-- domain) gives the skeleton of the Unicode domain it came from.
    domain = parse_email(f"user@{CYRILLIC_A}cme.example")
    assert domain is not None and domain.address.startswith("user@xn--")
    assert email_skeleton(domain.address) == real.skeleton


def test_scripts_writing_combines_are_not_mixed() -> None:
    assert not mixes_scripts("山田たろう")  # Han with Hiragana
    assert not mixes_scripts("иван")
    assert not mixes_scripts("anna.schmidt-2")  # Latin with Common
    assert mixes_scripts(f"us{CYRILLIC_E}r")
    assert mixes_scripts("alloτ")  # Latin with Greek


async def register(gql: GraphQLClient, slug: str, email: str) -> dict[str, Any]:
    variables = {"input": {"tenantSlug": slug, "email": email, "fullName": "Eve", "password": PASSWORD}}
    payload: dict[str, Any] = (await gql(REGISTER, variables)).ok()["register"]
    return payload


def problems(payload: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


async def user_count(runtime: Runtime) -> int:
    async with runtime.db.session(TenantScope.all_tenants()) as session:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)


@pytest.mark.parametrize(
    ("look_alike", "code"),
    [
        (f"us{CYRILLIC_E}r@acme.example", "INVALID_EMAIL"),  # mixes Latin and Cyrillic
        (f"{FULLWIDTH_U}ser@acme.example", "CONFLICT"),  # NFKC: the real address itself
        (f"user@{CYRILLIC_A}cme.example", "INVALID_EMAIL"),  # a mixed domain label
        ("USER@Acme.Example", "CONFLICT"),
    ],
)
async def test_look_alikes_of_an_account_are_refused(
    gql: GraphQLClient, identity: Identity, runtime: Runtime, look_alike: str, code: str
) -> None:
    await identity.tenant("acme")
    assert problems(await register(gql, "acme", "user@acme.example")) == []
    before = await user_count(runtime)
    assert problems(await register(gql, "acme", look_alike)) == [(["input", "email"], code)]
    assert await user_count(runtime) == before


async def test_a_single_script_look_alike_is_refused_in_its_tenant_only(
    gql: GraphQLClient, identity: Identity
) -> None:
    await identity.tenant("acme")
    await identity.tenant("globex")
    assert problems(await register(gql, "acme", "pop@acme.example")) == []
    cyrillic = "\u0440\u043e\u0440@acme.example"
    refused = await register(gql, "acme", cyrillic)
    assert problems(refused) == [(["input", "email"], "CONFUSABLE_EMAIL")]
    assert "looks the same" in refused["userErrors"][0]["message"]
    # Another tenant has no such account: the same address is fine there, and so is a plain one.
    assert (await register(gql, "globex", cyrillic))["user"] == {"email": cyrillic}
    assert (await register(gql, "acme", "Pope@ACME.example"))["user"] == {"email": "pope@acme.example"}


async def test_an_address_signs_in_however_it_is_spelt(gql: GraphQLClient, identity: Identity) -> None:
    await identity.tenant("acme")
    assert problems(await register(gql, "acme", "Anna@Bücher.example")) == []
    for spelling in (
        "anna@bücher.example",
        "ANNA@BÜCHER.EXAMPLE",
        "anna@xn--bcher-kva.example",
        "\uff41\uff4e\uff4e\uff41@bücher.example",  # fullwidth ａｎｎａ
    ):
        signed_in = (await identity.login("acme", spelling, PASSWORD)).ok()["login"]
        assert signed_in["userErrors"] == [], spelling
        assert signed_in["user"]["email"] == "anna@xn--bcher-kva.example"


async def test_an_admin_cannot_rename_an_account_to_a_look_alike(
    gql: GraphQLClient, identity: Identity
) -> None:
    admin = await identity.account("acme", Role.TENANT_ADMIN, email="admin@acme.example")
    other = await identity.account("acme", email="someone@acme.example")
    await identity.account("acme", email="pop@acme.example")

    async def rename(email: str) -> dict[str, Any]:
        variables = {"input": {"id": other.gid, "email": email}}
        payload: dict[str, Any] = (await gql(UPDATE_USER, variables, token=admin.token)).ok()["updateUser"]
        return payload

    assert problems(await rename("\u0440\u043e\u0440@acme.example")) == [
        (["input", "email"], "CONFUSABLE_EMAIL")
    ]
    assert problems(await rename(f"p{CYRILLIC_A}p@acme.example")) == [(["input", "email"], "INVALID_EMAIL")]
    assert problems(await rename("POP@acme.example")) == [(["input", "email"], "CONFLICT")]
    # Its own address, respelt, is no clash with itself.
    assert (await rename("SomeOne@ACME.example"))["user"] == {"email": "someone@acme.example"}
    assert (await rename("sam@acme.example"))["user"] == {"email": "sam@acme.example"}
