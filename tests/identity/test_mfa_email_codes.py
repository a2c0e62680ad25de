"""Email verification by the mail's 6-digit code beside its link, against real PostgreSQL and
Redis: signed in, or with the link's token; stored keyed, single use, attempt-limited, replaced
by a newer mail, and of the caller's own account only."""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

from sqlalchemy import select, update

from models.identity.accounts import User
from models.identity.verification import VerificationChallenge
from server.runtime import Runtime
from tests.support.graphql import GraphQLClient
from tests.support.identity import PASSWORD, Identity, quick_account
from tests.support.recovery import ALL, ME, challenges_of, link_token, mails_to, problems, register

VERIFY_EMAIL = """
mutation($input: VerifyEmailInput!) {
  verifyEmail(input: $input) { verified user { id emailVerified } userErrors { field code message } }
}
"""
REQUEST_EMAIL = "mutation { requestEmailVerification { sentTo userErrors { code } } }"
ADDRESS = "ada@acme.example"


async def signed_up(runtime: Runtime, gql: GraphQLClient, email: str = ADDRESS) -> dict[str, Any]:
    await Identity(runtime.db, gql).tenant("acme")
    payload = await register(gql, "acme", PASSWORD, fullName="Ada Lovelace", email=email)
    assert payload["userErrors"] == [], payload
    result: dict[str, Any] = payload
    return result


async def last_mail(runtime: Runtime, address: str = ADDRESS) -> tuple[str, str]:
    """The latest verification mail's link token and code."""
    body = (await mails_to(runtime, address))[-1].body_text
    found = re.search(r"Or enter this code: (\d{6})\n", body)
    assert found is not None, body
    return link_token(body), found.group(1)


async def verify(gql: GraphQLClient, bearer: str | None = None, **inputs: Any) -> Any:
    return (await gql(VERIFY_EMAIL, {"input": inputs}, token=bearer)).ok()["verifyEmail"]


async def user_id_of(runtime: Runtime, address: str = ADDRESS) -> uuid.UUID:
    async with runtime.db.session(ALL) as session:
        found = await session.scalar(select(User.id).where(User.email == address))
    assert found is not None
    return found


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


async def test_the_mail_carries_a_code_that_verifies_when_signed_in(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    payload = await signed_up(runtime, gql)
    token, code = await last_mail(runtime)
    bearer = payload["accessToken"]
    [challenge] = await challenges_of(runtime, await user_id_of(runtime))
    assert challenge.code_hash is not None and code not in challenge.code_hash
    assert challenge.code_hash != hashlib.sha256(code.encode()).hexdigest()

    assert problems(await verify(gql, bearer, code=wrong(code))) == [
        (("input", "code"), "INVALID_VERIFICATION_CODE")
    ]
    done = await verify(gql, bearer, code=f" {code} ")
    assert done["verified"] is True and done["user"]["emailVerified"] is True
    assert (await gql(ME, token=bearer)).ok()["me"]["emailVerified"] is True
    # The challenge is spent: neither its code nor its link works again.
    assert problems(await verify(gql, bearer, code=code)) == [
        (("input", "code"), "INVALID_VERIFICATION_CODE")
    ]
    assert problems(await verify(gql, token=token, tenantSlug="acme")) == [
        (("input", "token"), "VERIFICATION_TOKEN_USED")
    ]


async def test_the_code_with_the_links_token_needs_no_session(runtime: Runtime, gql: GraphQLClient) -> None:
    await signed_up(runtime, gql)
    token, code = await last_mail(runtime)
    bad = await verify(gql, token=token, code=wrong(code), tenantSlug="acme")
    assert problems(bad) == [(("input", "code"), "INVALID_VERIFICATION_CODE")]
    done = await verify(gql, token=token, code=code, tenantSlug="acme")
    # Anonymous: told it worked, not who it was.
    assert done == {"verified": True, "user": None, "userErrors": []}
    # A code without a token needs a session.
    assert (await gql(VERIFY_EMAIL, {"input": {"code": code}})).error_codes == ["UNAUTHENTICATED"]
    neither = await verify(gql)
    assert problems(neither) == [(None, "TOKEN_OR_CODE")]


async def test_wrong_codes_use_up_the_mail(runtime: Runtime, gql: GraphQLClient) -> None:
    payload = await signed_up(runtime, gql)
    bearer = payload["accessToken"]
    _, code = await last_mail(runtime)
    for _ in range(runtime.settings.verification_max_attempts - 1):
        assert problems(await verify(gql, bearer, code=wrong(code))) == [
            (("input", "code"), "INVALID_VERIFICATION_CODE")
        ]
    last = await verify(gql, bearer, code=wrong(code))
    assert problems(last) == [(("input", "code"), "VERIFICATION_ATTEMPTS_EXCEEDED")]
    assert problems(await verify(gql, bearer, code=code)) == [
        (("input", "code"), "VERIFICATION_ATTEMPTS_EXCEEDED")
    ]
    [challenge] = await challenges_of(runtime, await user_id_of(runtime))
    assert challenge.attempts == runtime.settings.verification_max_attempts
    # A new mail (a new code) works again.
    assert (await gql(REQUEST_EMAIL, token=bearer)).ok()["requestEmailVerification"]["userErrors"] == []
    _, fresh = await last_mail(runtime)
    assert (await verify(gql, bearer, code=fresh))["verified"] is True


async def test_a_newer_mail_replaces_the_code_and_codes_expire(runtime: Runtime, gql: GraphQLClient) -> None:
    payload = await signed_up(runtime, gql)
    bearer = payload["accessToken"]
    token, first = await last_mail(runtime)
    await gql(REQUEST_EMAIL, token=bearer)
    _, second = await last_mail(runtime)
    # The first mail's challenge was replaced: its token (with its code) is refused as used.
    assert problems(await verify(gql, token=token, code=first, tenantSlug="acme")) == [
        (("input", "token"), "VERIFICATION_TOKEN_USED")
    ]
    async with runtime.db.transaction(ALL) as session:
        await session.execute(
            update(VerificationChallenge)
            .where(VerificationChallenge.consumed_at.is_(None))
            .values(expires_at=VerificationChallenge.created_at)
        )
    assert problems(await verify(gql, bearer, code=second)) == [
        (("input", "code"), "VERIFICATION_TOKEN_EXPIRED")
    ]


async def test_a_code_proves_only_the_callers_own_mail(runtime: Runtime, gql: GraphQLClient) -> None:
    await signed_up(runtime, gql)
    _, code = await last_mail(runtime)
    other = await quick_account(runtime, "acme", email="eve@acme.example")
    # Eve has no mail pending: Ada's code means nothing for her account.
    assert problems(await verify(gql, other.token, code=code)) == [
        (("input", "code"), "INVALID_VERIFICATION_CODE")
    ]
    assert problems(await verify(gql, other.token, code="1" * 17)) == [(("input", "code"), "TOO_LONG")]
    async with runtime.db.session(ALL) as session:
        ada = await session.scalar(select(User).where(User.email == ADDRESS))
    assert ada is not None and ada.email_verified is False
