"""Email and phone verification and password reset against real PostgreSQL and Redis: secrets stored
only hashed, single use, expiring, attempt-limited and rate-limited; a reset request that answers
the same for unknown accounts; a reset that ends every session of the account."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from core.scope import TenantScope
from core.settings import Settings
from models.identity.accounts import User, UserStatus
from models.identity.verification import ChallengePurpose, Channel, SmsMessage, VerificationChallenge
from server.runtime import Runtime
from tests.conftest import gql_of_own_app
from tests.support.graphql import GraphQLClient
from tests.support.identity import PASSWORD, Identity, quick_account
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
    set_challenges,
    texted_code,
    texts_to,
)

REQUEST_EMAIL = "mutation { requestEmailVerification { sentTo expiresAt userErrors { field code } } }"
REQUEST_PHONE = "mutation { requestPhoneVerification { sentTo expiresAt userErrors { field code } } }"
VERIFY_EMAIL = """
mutation($input: VerifyEmailInput!) {
  verifyEmail(input: $input) { verified user { id emailVerified } userErrors { field code message } }
}
"""
VERIFY_PHONE = """
mutation($input: VerifyPhoneInput!) {
  verifyPhone(input: $input) { verified user { id phoneVerified } userErrors { field code message } }
}
"""
REQUEST_RESET = """
mutation($input: RequestPasswordResetInput!) {
  requestPasswordReset(input: $input) { accepted userErrors { field code message } }
}
"""
RESET = """
mutation($input: ResetPasswordInput!) {
  resetPassword(input: $input) { passwordReset userErrors { field code message } }
}
"""
REFRESH = (
    "mutation($t: String!) { refreshToken(input: {refreshToken: $t}) { accessToken userErrors { code } } }"
)
NEW_PASSWORD = "a-new-and-long-passphrase"
FORGED = "ev_" + "A" * 43


async def call(
    gql: GraphQLClient, document: str, field: str, bearer: str | None = None, **inputs: Any
) -> Any:
    variables = {"input": inputs} if inputs else None
    return (await gql(document, variables, token=bearer)).ok()[field]


async def verify_email(
    gql: GraphQLClient, token: str, slug: str | None = "acme", bearer: str | None = None
) -> Any:
    return await call(gql, VERIFY_EMAIL, "verifyEmail", bearer, token=token, tenantSlug=slug)


async def verify_phone(gql: GraphQLClient, bearer: str, code: str) -> Any:
    return await call(gql, VERIFY_PHONE, "verifyPhone", bearer, code=code)


async def request_reset(gql: GraphQLClient, slug: str = "acme", **name: str) -> Any:
    return await call(gql, REQUEST_RESET, "requestPasswordReset", tenantSlug=slug, **name)


async def reset(
    gql: GraphQLClient, token: str, password: str = NEW_PASSWORD, slug: str | None = "acme"
) -> Any:
    return await call(gql, RESET, "resetPassword", token=token, newPassword=password, tenantSlug=slug)


async def signed_up(
    runtime: Runtime, gql: GraphQLClient, slug: str = "acme", **contact: str
) -> dict[str, Any]:
    await Identity(runtime.db, gql).tenant(slug)
    payload = await register(gql, slug, PASSWORD, fullName="Ada Lovelace", **contact)
    assert payload["userErrors"] == []
    return payload


async def user_of(runtime: Runtime, **where: Any) -> User:
    async with runtime.db.session(ALL) as session:
        user = await session.scalar(select(User).filter_by(**where))
    assert user is not None
    return user


async def last_link(runtime: Runtime, address: str) -> str:
    return link_token((await mails_to(runtime, address))[-1].body_text)


# ---- email -----------------------------------------------------------------------------------


async def test_email_link_verifies_once(runtime: Runtime, gql: GraphQLClient) -> None:
    payload = await signed_up(runtime, gql, email="ada@acme.example")
    token = await last_link(runtime, "ada@acme.example")
    [challenge] = await challenges_of(runtime, (await user_of(runtime, email="ada@acme.example")).id)
    assert challenge.secret_hash == hashlib.sha256(token.encode()).hexdigest() != token

    # No sign-in needed; an anonymous caller is told it worked, not who it was.
    assert await verify_email(gql, token) == {"verified": True, "user": None, "userErrors": []}
    me = (await gql(ME, token=payload["accessToken"])).ok()["me"]
    assert me["emailVerified"] is True
    assert (await login(gql, "acme", PASSWORD, email="ada@acme.example"))["verificationRequired"] is False
    [used] = await challenges_of(runtime, challenge.user_id)
    assert used.consumed_at is not None

    again = await verify_email(gql, token)
    assert problems(again) == [(("input", "token"), "VERIFICATION_TOKEN_USED")]
    assert again["verified"] is False
    # Verified: nothing more to send.
    already = await call(gql, REQUEST_EMAIL, "requestEmailVerification", payload["accessToken"])
    assert problems(already) == [(None, "ALREADY_VERIFIED")]


async def test_a_new_link_replaces_the_old_one(runtime: Runtime, gql: GraphQLClient) -> None:
    payload = await signed_up(runtime, gql, email="ada@acme.example")
    first = await last_link(runtime, "ada@acme.example")
    sent = await call(gql, REQUEST_EMAIL, "requestEmailVerification", payload["accessToken"])
    assert sent["userErrors"] == [] and sent["sentTo"] == "ada@acme.example"
    expires = datetime.fromisoformat(sent["expiresAt"])
    assert timedelta(hours=23) < expires - datetime.now(UTC) <= timedelta(hours=24)
    second = await last_link(runtime, "ada@acme.example")
    assert second != first and len(await mails_to(runtime, "ada@acme.example")) == 2

    assert problems(await verify_email(gql, first)) == [(("input", "token"), "VERIFICATION_TOKEN_USED")]
    # Signed in as the owner, the answer shows the account.
    done = await verify_email(gql, second, slug=None, bearer=payload["accessToken"])
    assert done == {
        "verified": True,
        "user": {"id": payload["user"]["id"], "emailVerified": True},
        "userErrors": [],
    }


async def test_expired_wrong_and_foreign_email_tokens(runtime: Runtime, gql: GraphQLClient) -> None:
    await signed_up(runtime, gql, "globex", email="ada@globex.example")
    await signed_up(runtime, gql, email="ada@acme.example")
    token = await last_link(runtime, "ada@acme.example")
    user = await user_of(runtime, email="ada@acme.example")

    invalid = [(("input", "token"), "INVALID_VERIFICATION_TOKEN")]
    assert problems(await verify_email(gql, FORGED)) == invalid
    assert problems(await verify_email(gql, token, slug="globex")) == invalid  # another tenant's link
    assert problems(await verify_email(gql, token, slug="no-such-tenant")) == invalid
    assert problems(await verify_email(gql, "x" * 300)) == [(("input", "token"), "TOO_LONG")]
    # A verification link is no reset link.
    assert problems(await reset(gql, token)) == invalid

    await set_challenges(runtime, user.id, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    expired = await verify_email(gql, token)
    assert problems(expired) == [(("input", "token"), "VERIFICATION_TOKEN_EXPIRED")]
    assert (await user_of(runtime, id=user.id)).email_verified is False


async def test_a_link_proves_only_the_address_it_went_to(runtime: Runtime, gql: GraphQLClient) -> None:
    await signed_up(runtime, gql, email="old@acme.example")
    token = await last_link(runtime, "old@acme.example")
    async with runtime.db.transaction(ALL) as session:
        await session.execute(
            update(User).where(User.email == "old@acme.example").values(email="new@acme.example")
        )
    assert problems(await verify_email(gql, token)) == [(("input", "token"), "INVALID_VERIFICATION_TOKEN")]
    assert (await user_of(runtime, email="new@acme.example")).email_verified is False


async def test_email_verification_needs_an_address(runtime: Runtime, gql: GraphQLClient) -> None:
    payload = await signed_up(runtime, gql, phone="+49301234567")
    answer = await call(gql, REQUEST_EMAIL, "requestEmailVerification", payload["accessToken"])
    assert problems(answer) == [(None, "NO_EMAIL")]
    anonymous = await gql(REQUEST_EMAIL)
    assert anonymous.error_codes == ["UNAUTHENTICATED"]


# ---- phone -----------------------------------------------------------------------------------


async def test_phone_code_verifies_once(runtime: Runtime, gql: GraphQLClient) -> None:
    payload = await signed_up(runtime, gql, phone="+49301234567")
    token = payload["accessToken"]
    [text] = await texts_to(runtime, "+49301234567")
    code = texted_code(text.body)
    user = await user_of(runtime, phone="+49301234567")
    [challenge] = await challenges_of(runtime, user.id)
    assert challenge.secret_hash.startswith("$argon2id$") and code not in challenge.secret_hash

    wrong = "000000" if code != "000000" else "111111"
    assert problems(await verify_phone(gql, token, wrong)) == [
        (("input", "code"), "INVALID_VERIFICATION_CODE")
    ]
    assert [c.attempts for c in await challenges_of(runtime, user.id)] == [1]

    done = await verify_phone(gql, token, f" {code} ")
    assert done == {
        "verified": True,
        "user": {"id": payload["user"]["id"], "phoneVerified": True},
        "userErrors": [],
    }
    assert (await login(gql, "acme", PASSWORD, phone="+49301234567"))["verificationRequired"] is False
    # Used: no code is pending any more.
    assert problems(await verify_phone(gql, token, code)) == [
        (("input", "code"), "INVALID_VERIFICATION_CODE")
    ]
    already = await call(gql, REQUEST_PHONE, "requestPhoneVerification", token)
    assert problems(already) == [(None, "ALREADY_VERIFIED")]


async def test_wrong_codes_use_up_the_code(runtime: Runtime, gql: GraphQLClient, settings: Settings) -> None:
    payload = await signed_up(runtime, gql, phone="+49301234567")
    token = payload["accessToken"]
    code = texted_code((await texts_to(runtime, "+49301234567"))[-1].body)
    wrong = "000000" if code != "000000" else "111111"
    answers = [
        problems(await verify_phone(gql, token, wrong)) for _ in range(settings.verification_max_attempts)
    ]
    assert answers[:-1] == [[(("input", "code"), "INVALID_VERIFICATION_CODE")]] * (len(answers) - 1)
    assert answers[-1] == [(("input", "code"), "VERIFICATION_ATTEMPTS_EXCEEDED")]
    # Now even the right code is refused, until a new one is asked for.
    assert problems(await verify_phone(gql, token, code)) == [
        (("input", "code"), "VERIFICATION_ATTEMPTS_EXCEEDED")
    ]
    sent = await call(gql, REQUEST_PHONE, "requestPhoneVerification", token)
    assert sent["userErrors"] == [] and sent["sentTo"] == "+49*******67"
    fresh = texted_code((await texts_to(runtime, "+49301234567"))[-1].body)
    assert (await verify_phone(gql, token, fresh))["verified"] is True


async def test_expired_and_foreign_codes(runtime: Runtime, gql: GraphQLClient) -> None:
    mine = await signed_up(runtime, gql, phone="+49301234567")
    other = await signed_up(runtime, gql, "globex", phone="+49301234568")
    my_code = texted_code((await texts_to(runtime, "+49301234567"))[-1].body)
    their_code = texted_code((await texts_to(runtime, "+49301234568"))[-1].body)
    if their_code != my_code:  # another account's code is no code of mine
        refused = await verify_phone(gql, mine["accessToken"], their_code)
        assert problems(refused) == [(("input", "code"), "INVALID_VERIFICATION_CODE")]
    user = await user_of(runtime, phone="+49301234567")
    await set_challenges(runtime, user.id, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    expired = await verify_phone(gql, mine["accessToken"], my_code)
    assert problems(expired) == [(("input", "code"), "VERIFICATION_TOKEN_EXPIRED")]
    assert (await user_of(runtime, id=user.id)).phone_verified is False
    assert (await verify_phone(gql, other["accessToken"], their_code))["verified"] is True
    # Text messages are tenant rows: another tenant's scope does not see them.
    async with runtime.db.session(TenantScope.of(user.tenant_id)) as session:
        numbers = set(await session.scalars(select(SmsMessage.to_number)))
    assert numbers == {"+49301234567"}


async def test_requests_and_code_attempts_are_rate_limited(runtime: Runtime, settings: Settings) -> None:
    account = await quick_account(runtime, "acme")
    async with runtime.db.transaction(ALL) as session:
        await session.execute(update(User).where(User.id == account.user_id).values(phone="+15550109999"))
    limits = {"verification_requests_per_account": 2, "auth_rate_limit_per_account": 3}
    async with gql_of_own_app(settings.database_url, **limits) as own:
        for _ in range(2):
            assert (await call(own, REQUEST_PHONE, "requestPhoneVerification", account.token))[
                "userErrors"
            ] == []
        third = await own(REQUEST_PHONE, token=account.token)
        assert third.error_codes == ["RATE_LIMITED"] and third.errors[0]["extensions"]["retryAfter"] > 0
        for _ in range(3):
            assert (await verify_phone(own, account.token, "999999"))["verified"] is False
        fourth = await own(VERIFY_PHONE, {"input": {"code": "999999"}}, token=account.token)
        assert fourth.error_codes == ["RATE_LIMITED"]
        resets = [
            await own(REQUEST_RESET, {"input": {"tenantSlug": "acme", "email": account.email}})
            for _ in range(3)
        ]
        assert [r.error_codes for r in resets] == [[], [], ["RATE_LIMITED"]]
    assert len(await texts_to(runtime, "+15550109999")) == 2


# ---- password reset --------------------------------------------------------------------------


async def test_reset_request_answers_the_same_for_unknown_accounts(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    account = await quick_account(runtime, "acme", email="ada@acme.example")
    await quick_account(runtime, "globex", email="bob@globex.example")
    asks = [
        {"slug": "acme", "email": "ADA@acme.example"},
        {"slug": "acme", "email": "nobody@acme.example"},
        {"slug": "acme", "phone": "+49301234567"},
        {"slug": "no-such-tenant", "email": "ada@acme.example"},
        {"slug": "globex", "email": "ada@acme.example"},  # an account of another tenant
    ]
    answers, seconds = [], []
    for ask in asks:
        started = time.monotonic()
        answers.append(await request_reset(gql, **ask))
        seconds.append(time.monotonic() - started)
    assert all(answer == {"accepted": True, "userErrors": []} for answer in answers)
    assert min(seconds) >= 0.3
    assert max(seconds) - min(seconds) < 0.2, seconds
    # Only the real account got mail.
    [mail] = await mails_to(runtime, "ada@acme.example")
    assert mail.subject == "Reset your password" and link_tenant(mail.body_text) == "acme"
    assert (
        await mails_to(runtime, "nobody@acme.example") == []
        and await mails_to(runtime, "bob@globex.example") == []
    )
    [challenge] = await challenges_of(runtime, account.user_id)
    assert (challenge.purpose, challenge.channel) == (ChallengePurpose.RESET_PASSWORD, Channel.EMAIL)
    assert challenge.secret_hash == hashlib.sha256(link_token(mail.body_text).encode()).hexdigest()


async def test_reset_sets_the_password_and_ends_every_session(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await quick_account(runtime, "acme", email="ada@acme.example")
    other_session = (await login(gql, "acme", PASSWORD, email="ada@acme.example"))["refreshToken"]
    async with runtime.db.transaction(ALL) as session:
        await session.execute(
            update(User).where(User.id == account.user_id).values(must_change_password=True)
        )
    await request_reset(gql, email="ada@acme.example")
    token = await last_link(runtime, "ada@acme.example")

    weak = await reset(gql, token, "password")
    assert problems(weak) == [(("input", "newPassword"), "WEAK_PASSWORD")] and weak["passwordReset"] is False
    assert await reset(gql, token) == {"passwordReset": True, "userErrors": []}

    assert (await gql(ME, token=account.token)).error_codes == ["UNAUTHENTICATED"]
    for refresh_token in (account.refresh_token, other_session):
        answer = (await gql(REFRESH, {"t": refresh_token})).ok()["refreshToken"]
        assert [e["code"] for e in answer["userErrors"]] == ["SESSION_REVOKED"]
    assert problems(await login(gql, "acme", PASSWORD, email="ada@acme.example")) == [
        (None, "INVALID_CREDENTIALS")
    ]
    assert (await login(gql, "acme", NEW_PASSWORD, email="ada@acme.example"))["accessToken"]
    user = await user_of(runtime, id=account.user_id)
    assert user.must_change_password is False
    assert user.email_verified is True  # the link proved the mailbox

    assert problems(await reset(gql, token, "yet-another-passphrase")) == [
        (("input", "token"), "VERIFICATION_TOKEN_USED")
    ]


async def test_expired_wrong_and_foreign_reset_tokens(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await quick_account(runtime, "acme", email="ada@acme.example")
    await quick_account(runtime, "globex")
    await request_reset(gql, email="ada@acme.example")
    token = await last_link(runtime, "ada@acme.example")

    invalid = [(("input", "token"), "INVALID_VERIFICATION_TOKEN")]
    assert problems(await reset(gql, "pr_" + "A" * 43)) == invalid
    assert problems(await reset(gql, token, slug="globex")) == invalid
    assert problems(await verify_email(gql, token)) == invalid  # a reset link verifies nothing by itself
    await set_challenges(runtime, account.user_id, expires_at=datetime.now(UTC) - timedelta(minutes=1))
    assert problems(await reset(gql, token)) == [(("input", "token"), "VERIFICATION_TOKEN_EXPIRED")]
    assert (await login(gql, "acme", PASSWORD, email="ada@acme.example"))["accessToken"]


async def test_reset_by_phone_texts_a_link(runtime: Runtime, gql: GraphQLClient) -> None:
    await signed_up(runtime, gql, phone="+49301234567")
    assert await request_reset(gql, phone="0049 30 1234567") == {"accepted": True, "userErrors": []}
    text = (await texts_to(runtime, "+49301234567"))[-1]
    assert "reset-password?" in text.body
    assert await reset(gql, link_token(text.body), slug=None) == {"passwordReset": True, "userErrors": []}
    signed_in = await login(gql, "acme", NEW_PASSWORD, phone="+49301234567")
    assert signed_in["accessToken"] and signed_in["verificationRequired"] is False


async def test_no_reset_for_accounts_that_may_not_sign_in(runtime: Runtime, gql: GraphQLClient) -> None:
    await quick_account(runtime, "acme", email="gone@acme.example", status=UserStatus.SUSPENDED)
    assert await request_reset(gql, email="gone@acme.example") == {"accepted": True, "userErrors": []}
    assert await mails_to(runtime, "gone@acme.example") == []


async def test_malformed_reset_requests(gql: GraphQLClient) -> None:
    assert problems(await request_reset(gql)) == [(("input", "email"), "EMAIL_OR_PHONE")]
    assert problems(await request_reset(gql, phone="555-0199")) == [(("input", "phone"), "INVALID_PHONE")]
    assert problems(await request_reset(gql, email="not-an-email")) == [(("input", "email"), "INVALID_EMAIL")]
    assert (await request_reset(gql, email="not-an-email"))["accepted"] is False


async def test_challenges_are_tenant_rows(runtime: Runtime, gql: GraphQLClient) -> None:
    await signed_up(runtime, gql, email="a@acme.example")
    await signed_up(runtime, gql, "globex", email="b@globex.example")
    globex = (await user_of(runtime, email="b@globex.example")).tenant_id
    async with runtime.db.session(TenantScope.of(globex)) as session:
        sent_to = set(await session.scalars(select(VerificationChallenge.sent_to)))
    assert sent_to == {"b@globex.example"}
