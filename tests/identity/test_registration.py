"""Registration (seed 002) against real PostgreSQL: email or phone, names, username, terms,
affiliate code, verificationRequired; login by email or phone; phone numbers in E.164; every bad
input a userError."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.permissions import Role
from core.phones import parse_phone
from models.identity.accounts import User
from models.identity.verification import ChallengePurpose, Channel
from server.runtime import Runtime
from tests.support.graphql import GraphQLClient
from tests.support.identity import PASSWORD, Identity, global_id, quick_account
from tests.support.recovery import (
    ALL,
    ME,
    challenges_of,
    link_tenant,
    link_token,
    login,
    mails_to,
    problems,
    register,
    set_tenant_settings,
    texted_code,
    texts_to,
)

USER_NODE = "query($id: ID!) { node(id: $id) { ... on User { id phone username firstName } } }"


async def user_row(runtime: Runtime, user_id: str) -> User:
    async with runtime.db.session(ALL) as session:
        users = await session.scalars(select(User))
        return next(user for user in users if global_id("User", user.id) == user_id)


async def count_users(runtime: Runtime) -> int:
    async with runtime.db.session(ALL) as session:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)


@pytest.mark.parametrize(
    ("spelt", "e164"),
    [
        ("+49 30 1234567", "+49301234567"),
        ("0049 (30) 123-4567", "+49301234567"),
        ("+1 555.010.9999", "+15550109999"),
        ("＋４４ ２０ ７９４６ ００１８", "+442079460018"),  # fullwidth, as phones' keyboards type it
        ("+123456789012345", "+123456789012345"),  # 15 digits: E.164's most
        ("30 1234567", None),  # no country code: no region is guessed
        ("+0 301234567", None),  # country codes never start with 0
        ("+1234567890123456", None),  # 16 digits
        ("+49 30 12a4567", None),
        ("+49 30 1234567 ext 5", None),
        ("+12345", None),  # too short to dial anywhere
        ("+٤٩٣٠١٢٣٤٥٦٧", None),  # Arabic-Indic digits: not E.164's
        ("", None),
    ],
)
def test_phone_numbers_are_read_in_international_form_only(spelt: str, e164: str | None) -> None:
    assert parse_phone(spelt) == e164


async def test_register_with_email_and_the_details_002_names(runtime: Runtime, gql: GraphQLClient) -> None:
    before = datetime.now(UTC)
    await Identity(runtime.db, gql).tenant("acme")
    payload = await register(
        gql,
        "acme",
        PASSWORD,
        email="Ada@Acme.Example",
        firstName=" Ada ",
        lastName="Lovelace",
        username="Ada.L",
        acceptTerms=True,
        affiliateCode="PARTNER-7",
    )
    assert payload["userErrors"] == []
    assert payload["verificationRequired"] is True
    assert payload["accessToken"]
    user = payload["user"]
    assert user == {
        "id": user["id"],
        "email": "ada@acme.example",
        "emailAddress": "ada@acme.example",
        "fullName": "Ada Lovelace",  # first and last name, joined
        "firstName": "Ada",
        "lastName": "Lovelace",
        "username": "ada.l",
        "phone": None,
        "phoneVerified": False,
        "emailVerified": False,
        "roles": ["USER"],
        "tenant": {"slug": "acme"},
    }
    row = await user_row(runtime, user["id"])
    assert row.affiliate_code == "PARTNER-7"
    assert row.terms_accepted_at is not None and before <= row.terms_accepted_at <= datetime.now(UTC)

    # The verification link went through the mailer, in the registration's transaction.
    [mail] = await mails_to(runtime, "ada@acme.example")
    assert mail.subject == "Confirm your email address"
    assert mail.tenant_id == row.tenant_id
    token = link_token(mail.body_text)
    assert link_tenant(mail.body_text) == "acme"
    assert "http://127.0.0.1:8000/verify-email?" in mail.body_text
    [challenge] = await challenges_of(runtime, row.id)
    assert (challenge.purpose, challenge.channel, challenge.sent_to) == (
        ChallengePurpose.VERIFY_EMAIL,
        Channel.EMAIL,
        "ada@acme.example",
    )
    # Stored only as its hash.
    assert challenge.secret_hash != token and token not in challenge.secret_hash
    assert challenge.secret_hash == hashlib.sha256(token.encode()).hexdigest()
    assert timedelta(hours=23) < challenge.expires_at - before <= timedelta(hours=24, seconds=5)
    # No phone given, no text sent.
    async with runtime.db.session(ALL) as session:
        assert (await session.scalar(select(func.count()).select_from(challenge.__class__))) == 1


async def test_register_with_a_phone_only_and_sign_in_by_phone(runtime: Runtime, gql: GraphQLClient) -> None:
    await Identity(runtime.db, gql).tenant("acme")
    payload = await register(gql, "acme", PASSWORD, phone="+49 (30) 123-4567", fullName="Grace Hopper")
    assert payload["userErrors"] == []
    assert payload["verificationRequired"] is True
    # No address: emailAddress is null; the deprecated email answers an empty string.
    assert (payload["user"]["emailAddress"], payload["user"]["email"]) == (None, "")
    assert payload["user"]["phone"] == "+49301234567"
    assert (payload["user"]["firstName"], payload["user"]["lastName"]) == (None, None)
    row = await user_row(runtime, payload["user"]["id"])
    assert row.terms_accepted_at is None and row.affiliate_code is None and row.email_skeleton is None

    [text] = await texts_to(runtime, "+49301234567")
    code = texted_code(text.body)
    assert "Acme" in text.body
    [challenge] = await challenges_of(runtime, row.id)
    assert challenge.purpose == ChallengePurpose.VERIFY_PHONE
    assert challenge.secret_hash.startswith("$argon2id$") and code not in challenge.secret_hash
    assert await mails_to(runtime, "+49301234567") == []

    # However the number is spelt, it signs in.
    signed_in = await login(gql, "acme", PASSWORD, phone="0049 30 1234567")
    assert signed_in["userErrors"] == []
    assert signed_in["user"]["id"] == payload["user"]["id"]
    assert signed_in["verificationRequired"] is True
    me = (await gql(ME, token=signed_in["accessToken"])).ok()["me"]
    assert (me["phone"], me["emailAddress"], me["email"]) == ("+49301234567", None, "")

    wrong = await login(gql, "acme", "not-the-password", phone="+49301234567")
    unknown = await login(gql, "acme", PASSWORD, phone="+49301234568")
    assert problems(wrong) == problems(unknown) == [(None, "INVALID_CREDENTIALS")]
    assert wrong["accessToken"] is None


async def test_login_takes_exactly_one_of_email_and_phone(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await quick_account(runtime, "acme", email="max@acme.example")
    by_email = await login(gql, "acme", PASSWORD, email="MAX@acme.example")
    assert by_email["user"]["id"] == account.gid
    assert by_email["verificationRequired"] is True  # the address was never verified

    both = await login(gql, "acme", PASSWORD, email="max@acme.example", phone="+49301234567")
    neither = await login(gql, "acme", PASSWORD)
    blank = await login(gql, "acme", PASSWORD, email="  ", phone="")
    for payload in (both, neither, blank):
        assert problems(payload) == [(("input", "email"), "EMAIL_OR_PHONE")]
        assert payload["accessToken"] is None
    malformed = await login(gql, "acme", PASSWORD, phone="12345")
    assert problems(malformed) == [(("input", "phone"), "INVALID_PHONE")]


async def test_register_refuses_bad_input_with_every_problem_at_once(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    await Identity(runtime.db, gql).tenant("acme")
    neither = await register(gql, "acme", PASSWORD, fullName="Nobody")
    assert problems(neither) == [(("input", "email"), "EMAIL_OR_PHONE")]
    blank = await register(gql, "acme", PASSWORD, email=" ", phone="", fullName="Nobody")
    assert problems(blank) == [(("input", "email"), "EMAIL_OR_PHONE")]

    everything = await register(
        gql,
        "acme",
        "short",
        email="not-an-email",
        phone="030 1234567",
        username="-x",
        affiliateCode="no spaces!",
    )
    assert sorted(problems(everything)) == [
        (("input", "affiliateCode"), "INVALID_AFFILIATE_CODE"),
        (("input", "email"), "INVALID_EMAIL"),
        (("input", "fullName"), "REQUIRED"),
        (("input", "password"), "WEAK_PASSWORD"),
        (("input", "phone"), "INVALID_PHONE"),
        (("input", "username"), "INVALID_USERNAME"),
    ]
    for username in ("ab", "a b c", "ädam", "dots.", "x" * 33):
        payload = await register(
            gql, "acme", PASSWORD, email="u@acme.example", fullName="U", username=username
        )
        assert problems(payload) == [(("input", "username"), "INVALID_USERNAME")], username
    too_long = await register(
        gql, "acme", PASSWORD, email="u@acme.example", firstName="A" * 150, lastName="B" * 60
    )
    assert problems(too_long) == [(("input", "lastName"), "TOO_LONG")]
    for payload in (neither, blank, everything, too_long):
        assert payload["accessToken"] is None and payload["user"] is None
    assert await count_users(runtime) == 0
    assert await mails_to(runtime, "u@acme.example") == []


async def test_phone_and_username_are_unique_per_tenant(runtime: Runtime, gql: GraphQLClient) -> None:
    identity = Identity(runtime.db, gql)
    await identity.tenant("acme")
    await identity.tenant("globex")
    first = await register(gql, "acme", PASSWORD, phone="+44 20 7946 0018", fullName="A", username="sam")
    assert first["userErrors"] == []

    phone_again = await register(gql, "acme", PASSWORD, phone="0044 20 79460018", fullName="B")
    assert problems(phone_again) == [(("input", "phone"), "PHONE_TAKEN")]
    name_again = await register(gql, "acme", PASSWORD, email="b@acme.example", fullName="B", username="SAM")
    assert problems(name_again) == [(("input", "username"), "USERNAME_TAKEN")]

    elsewhere = await register(gql, "globex", PASSWORD, phone="+442079460018", fullName="C", username="sam")
    assert elsewhere["userErrors"] == []
    assert elsewhere["user"]["tenant"] == {"slug": "globex"}
    assert await count_users(runtime) == 2


async def test_concurrent_sign_ups_with_one_number_end_in_one_account(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    await Identity(runtime.db, gql).tenant("acme")
    answers = await asyncio.gather(
        *(register(gql, "acme", PASSWORD, phone="+15550109999", fullName=f"Racer {n}") for n in range(3))
    )
    assert sorted(payload["userErrors"] == [] for payload in answers) == [False, False, True]
    for payload in answers:
        assert {code for _, code in problems(payload)} <= {"PHONE_TAKEN", "CONFLICT"}
    assert await count_users(runtime) == 1
    assert len(await texts_to(runtime, "+15550109999")) == 1


async def test_a_tenant_may_require_accepting_its_terms(runtime: Runtime, gql: GraphQLClient) -> None:
    identity = Identity(runtime.db, gql)
    await identity.tenant("acme")
    # Without the setting, terms are optional (the register call of before keeps working).
    relaxed = await register(gql, "acme", PASSWORD, email="a@acme.example", fullName="A")
    assert relaxed["userErrors"] == [] and relaxed["verificationRequired"] is True
    assert (await user_row(runtime, relaxed["user"]["id"])).terms_accepted_at is None

    await set_tenant_settings(runtime, "acme", {"requireTermsAcceptance": True})
    refused = await register(gql, "acme", PASSWORD, email="b@acme.example", fullName="B")
    assert problems(refused) == [(("input", "acceptTerms"), "TERMS_NOT_ACCEPTED")]
    declined = await register(gql, "acme", PASSWORD, email="b@acme.example", fullName="B", acceptTerms=False)
    assert problems(declined) == [(("input", "acceptTerms"), "TERMS_NOT_ACCEPTED")]
    assert await mails_to(runtime, "b@acme.example") == []

    accepted = await register(gql, "acme", PASSWORD, email="b@acme.example", fullName="B", acceptTerms=True)
    assert accepted["userErrors"] == []
    assert (await user_row(runtime, accepted["user"]["id"])).terms_accepted_at is not None


async def test_contact_details_are_shown_to_who_may_read_the_user(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    await Identity(runtime.db, gql).tenant("acme")
    payload = await register(
        gql, "acme", PASSWORD, phone="+49301234567", fullName="Ada L", firstName="Ada", username="ada"
    )
    user_id = payload["user"]["id"]
    owner = payload["accessToken"]
    # Reading other users is the tenant admin's (seed 004).
    manager = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    peer = await quick_account(runtime, "acme", Role.MANAGER)
    stranger = await quick_account(runtime, "globex", Role.TENANT_ADMIN)

    expected = {"id": user_id, "phone": "+49301234567", "username": "ada", "firstName": "Ada"}
    for token in (owner, manager.token):
        assert (await gql(USER_NODE, {"id": user_id}, token=token)).ok()["node"] == expected
    for token in (peer.token, stranger.token):
        hidden = await gql(USER_NODE, {"id": user_id}, token=token)
        assert hidden.data is None  # node is non-null: the error reaches the root
        assert hidden.error_codes == ["NOT_FOUND"]
