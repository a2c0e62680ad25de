"""TOTP MFA against real PostgreSQL and Redis, with real codes (pyotp): setup, verification, the
login challenge and its completion by code or recovery code, replays, turning it off, rate limits,
the secret at rest, who sees mfaEnabled, and the demo MFA account."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import pyotp
import pytest
from sqlalchemy import func, select, update

from core.errors import Forbidden, InvalidInput, RateLimited
from core.permissions import Role
from core.principal import Principal, PrincipalKind
from core.scope import TenantScope
from core.settings import ConfigurationError, Settings
from demo import DEMO_PASSWORD, seed_demo
from demo.mfa import DEMO_MFA_EMAIL, DEMO_MFA_RECOVERY_CODES, DEMO_MFA_SECRET, DEMO_MFA_TENANT
from models.base import utcnow
from models.identity.mfa import MfaChallenge, MfaCredential, MfaRecoveryCode
from server.runtime import Runtime
from services.context import ServiceContext
from services.identity import mfa
from services.identity.mfa import SecondFactor
from services.identity.totp import UnreadableSecret, decrypt_secret
from tests.conftest import PRODUCTION_SETTINGS, make_settings
from tests.support.graphql import GraphQLClient
from tests.support.identity import CLIENT_IP, Account, global_id, quick_account
from tests.support.mfa import (
    DISABLE,
    ME,
    code_of,
    codes,
    complete,
    enable_mfa,
    login,
    setup,
    verify,
)

ALL = TenantScope.all_tenants()


async def test_setup_answers_secret_uri_and_ten_recovery_codes(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await quick_account(runtime, "acme", email="ada@acme.example")
    started = await setup(gql, account.token)

    assert started["userErrors"] == []
    assert len(started["secret"]) == 32 and pyotp.TOTP(started["secret"]).now().isdigit()
    uri = urlparse(started["otpauthUri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert unquote(uri.path) == "/Acme:ada@acme.example"  # issuer: the tenant's name; account: the email
    assert parse_qs(uri.query) == {"secret": [started["secret"]], "issuer": ["Acme"]}
    recovery = started["recoveryCodes"]
    assert len(recovery) == 10 and len(set(recovery)) == 10
    # Not in force before it is verified: login still answers tokens.
    assert (await gql(ME, token=account.token)).ok()["me"]["mfaEnabled"] is False
    assert (await login(gql, account))["accessToken"]


async def test_verified_mfa_turns_login_into_a_challenge_completed_by_a_code(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    account = await quick_account(runtime, "acme")
    enabled = await enable_mfa(gql, account)
    assert (await gql(ME, token=account.token)).ok()["me"] == {"email": account.email, "mfaEnabled": True}

    answer = await login(gql, account)
    assert answer["mfaRequired"] is True and answer["userErrors"] == []
    assert (answer["accessToken"], answer["refreshToken"], answer["user"]) == (None, None, None)
    challenge = answer["mfaChallenge"]
    assert challenge.startswith("mfa_")
    expires_in = answer["mfaChallengeExpiresAt"]
    assert expires_in is not None

    # The code that verified the setup was spent: replaying it within its window is refused.
    replay = await complete(gql, challenge, code=code_of(enabled.secret))
    assert codes(replay) == ["MFA_CODE_REUSED"] and replay["accessToken"] is None

    signed_in = await complete(gql, challenge, code=code_of(enabled.secret, 1))
    assert signed_in["userErrors"] == []
    assert signed_in["user"] == {"email": account.email, "mfaEnabled": True}
    assert (await gql(ME, token=signed_in["accessToken"])).ok()["me"]["email"] == account.email

    again = await complete(gql, challenge, code=code_of(enabled.secret, 1))
    assert codes(again) == ["MFA_CHALLENGE_USED"]


async def test_a_recovery_code_signs_in_once(runtime: Runtime, gql: GraphQLClient) -> None:
    enabled = await enable_mfa(gql, await quick_account(runtime, "acme"))
    first, second = enabled.recovery_codes[:2]

    # Typed as people do: upper case, spaces around.
    signed_in = await complete(
        gql, (await login(gql, enabled.account))["mfaChallenge"], recovery_code=f"  {first.upper()} "
    )
    assert signed_in["userErrors"] == [] and signed_in["accessToken"]

    challenge = (await login(gql, enabled.account))["mfaChallenge"]
    assert codes(await complete(gql, challenge, recovery_code=first)) == ["RECOVERY_CODE_USED"]
    assert codes(await complete(gql, challenge, recovery_code="aaaaa-bbbbb")) == ["INVALID_RECOVERY_CODE"]
    assert codes(await complete(gql, challenge)) == ["CODE_OR_RECOVERY_CODE"]
    both = await complete(gql, challenge, code=code_of(enabled.secret, 1), recovery_code=second)
    assert codes(both) == ["CODE_OR_RECOVERY_CODE"]
    assert (await complete(gql, challenge, recovery_code=second))["accessToken"]

    async with runtime.db.session(ALL) as session:
        used = await session.scalar(
            select(func.count()).where(
                MfaRecoveryCode.user_id == enabled.account.user_id, MfaRecoveryCode.used_at.is_not(None)
            )
        )
    assert used == 2


async def test_wrong_code_keeps_the_challenge_open_until_it_expires(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    enabled = await enable_mfa(gql, await quick_account(runtime, "acme"))
    challenge = (await login(gql, enabled.account))["mfaChallenge"]
    wrong = str((int(code_of(enabled.secret, 1)) + 1) % 1_000_000).zfill(6)

    for code in (wrong, "12345", "abcdef"):
        refused = await complete(gql, challenge, code=code)
        assert refused["userErrors"] == [
            {"field": ["input", "code"], "code": "INVALID_MFA_CODE", "message": "The code is not correct."}
        ]
    assert codes(await complete(gql, "mfa_forged", code=code_of(enabled.secret, 1))) == [
        "INVALID_MFA_CHALLENGE"
    ]
    assert codes(await complete(gql, "x" * 300, code="123456")) == ["TOO_LONG"]

    async with runtime.db.transaction(ALL) as session:
        await session.execute(
            update(MfaChallenge)
            .where(MfaChallenge.user_id == enabled.account.user_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    expired = await complete(gql, challenge, code=code_of(enabled.secret, 1))
    assert codes(expired) == ["MFA_CHALLENGE_EXPIRED"] and expired["accessToken"] is None


async def test_setup_and_verify_refusals(runtime: Runtime, gql: GraphQLClient) -> None:
    account = await quick_account(runtime, "acme")
    assert codes(await verify(gql, "123456", account.token)) == ["MFA_NOT_SET_UP"]
    disabled = (await gql(DISABLE, {"input": {"code": "123456"}}, token=account.token)).ok()["disableMfa"]
    assert codes(disabled) == ["MFA_NOT_ENABLED"]
    anonymous = await gql("mutation { setupMfa { secret } }")
    assert anonymous.error_codes == ["UNAUTHENTICATED"]

    # Set up again before verifying: the first secret is replaced.
    first = await setup(gql, account.token)
    second = await setup(gql, account.token)
    assert first["secret"] != second["secret"]
    assert codes(await verify(gql, code_of(first["secret"]), account.token)) == ["INVALID_MFA_CODE"]
    assert (await verify(gql, code_of(second["secret"]), account.token))["user"]["mfaEnabled"] is True

    assert codes(await setup(gql, account.token)) == ["MFA_ALREADY_ENABLED"]
    assert codes(await verify(gql, code_of(second["secret"], 1), account.token)) == ["MFA_ALREADY_ENABLED"]
    async with runtime.db.session(ALL) as session:
        kept = await session.scalar(
            select(func.count())
            .select_from(MfaRecoveryCode)
            .where(MfaRecoveryCode.user_id == account.user_id)
        )
    assert kept == 10  # the second setup's codes only


async def test_disable_needs_a_current_code(runtime: Runtime, gql: GraphQLClient) -> None:
    enabled = await enable_mfa(gql, await quick_account(runtime, "acme"))
    token = enabled.account.token

    async def disable(code: str) -> dict[str, Any]:
        payload: dict[str, Any] = (await gql(DISABLE, {"input": {"code": code}}, token=token)).ok()[
            "disableMfa"
        ]
        return payload

    assert codes(await disable(enabled.recovery_codes[0])) == ["INVALID_MFA_CODE"]
    assert codes(await disable(code_of(enabled.secret))) == ["MFA_CODE_REUSED"]
    assert (await disable(code_of(enabled.secret, 1)))["user"] == {"mfaEnabled": False}

    async with runtime.db.session(ALL) as session:
        assert await session.get(MfaCredential, enabled.account.user_id) is None
        left = await session.scalar(
            select(func.count())
            .select_from(MfaRecoveryCode)
            .where(MfaRecoveryCode.user_id == enabled.account.user_id)
        )
    assert left == 0
    assert (await login(gql, enabled.account))["accessToken"]  # no challenge any more


def limited_context(runtime: Runtime, client_ip: str = CLIENT_IP, **limits: object) -> ServiceContext:
    """A service context of the app's rate limiter (the test Redis) under other settings."""
    return ServiceContext(
        db=runtime.db,
        settings=make_settings(runtime.settings.database_url, "memory://", **limits),
        rate_limiter=runtime.rate_limiter,
        client_ip=client_ip,
    )


async def test_codes_are_rate_limited_per_account(runtime: Runtime, gql: GraphQLClient) -> None:
    enabled = await enable_mfa(gql, await quick_account(runtime, "acme"))
    challenge = (await login(gql, enabled.account))["mfaChallenge"]
    # Four attempts a window: the code that verified the setup was the first.
    limited = limited_context(runtime, auth_rate_limit_per_account=4)
    for _ in range(3):
        with pytest.raises(InvalidInput):
            await mfa.complete_mfa_login(limited, challenge, SecondFactor(code="000000"))
    # Over the limit, the right code does not get through either, from any address.
    for ip in (CLIENT_IP, "198.51.100.200"):
        with pytest.raises(RateLimited):
            await mfa.complete_mfa_login(
                limited_context(runtime, ip, auth_rate_limit_per_account=4),
                challenge,
                SecondFactor(code=code_of(enabled.secret, 1)),
            )
    # A fresh challenge (password again) does not reset the account's count.
    fresh = (await login(gql, enabled.account))["mfaChallenge"]
    with pytest.raises(RateLimited):
        await mfa.complete_mfa_login(limited, fresh, SecondFactor(recovery_code=enabled.recovery_codes[0]))


async def test_codes_are_rate_limited_per_client_ip(runtime: Runtime, gql: GraphQLClient) -> None:
    first = await enable_mfa(gql, await quick_account(runtime, "acme"))
    second = await enable_mfa(gql, await quick_account(runtime, "acme"))
    limited = limited_context(runtime, "198.51.100.9", auth_rate_limit_per_ip=2)
    for enabled in (first, second):
        with pytest.raises(InvalidInput):
            await mfa.complete_mfa_login(
                limited, (await login(gql, enabled.account))["mfaChallenge"], SecondFactor(code="000000")
            )
    # Each account is under its own limit; the address is over its.
    with pytest.raises(RateLimited):
        await mfa.complete_mfa_login(
            limited,
            (await login(gql, first.account))["mfaChallenge"],
            SecondFactor(code=code_of(first.secret, 1)),
        )
    other_ip = limited_context(runtime, "198.51.100.10", auth_rate_limit_per_ip=2)
    challenge = (await login(gql, first.account))["mfaChallenge"]
    signed_in = await mfa.complete_mfa_login(other_ip, challenge, SecondFactor(code=code_of(first.secret, 1)))
    assert signed_in.user.id == first.account.user_id


async def test_the_secret_is_stored_encrypted_for_its_user(runtime: Runtime, gql: GraphQLClient) -> None:
    enabled = await enable_mfa(gql, await quick_account(runtime, "acme"))
    async with runtime.db.session(ALL) as session:
        credential = await session.get_one(MfaCredential, enabled.account.user_id)
        hashes = list(
            await session.scalars(
                select(MfaRecoveryCode.code_hash).where(MfaRecoveryCode.user_id == enabled.account.user_id)
            )
        )
    stored = credential.secret_ciphertext
    assert enabled.secret not in stored
    key = runtime.settings.mfa_encryption_key
    assert decrypt_secret(key, enabled.account.user_id, stored) == enabled.secret
    with pytest.raises(UnreadableSecret):  # sealed to its user: copied to another row it does not open
        decrypt_secret(key, uuid.uuid4(), stored)
    with pytest.raises(UnreadableSecret):
        decrypt_secret("another-key", enabled.account.user_id, stored)
    assert not set(enabled.recovery_codes) & set(hashes)

    # A key change makes the secret unreadable: a userError, never a 500.
    challenge = (await login(gql, enabled.account))["mfaChallenge"]
    other_key = limited_context(runtime, mfa_encryption_key="rotated")
    with pytest.raises(InvalidInput) as refused:
        await mfa.complete_mfa_login(other_key, challenge, SecondFactor(code=code_of(enabled.secret, 1)))
    assert "cannot be checked" in str(refused.value)


async def test_an_api_key_cannot_change_mfa(runtime: Runtime) -> None:
    account = await quick_account(runtime, "acme")
    by_key = limited_context(runtime)
    by_key.principal = Principal(
        user_id=account.user_id,
        home_tenant_id=account.tenant_id,
        roles=frozenset({Role.USER}),
        session_id=uuid.uuid4(),
        kind=PrincipalKind.API_KEY,
    )
    with pytest.raises(Forbidden):
        await mfa.setup_mfa(by_key, None)
    with pytest.raises(Forbidden):
        await mfa.disable_mfa(by_key, "123456")


def test_production_refuses_the_development_mfa_key() -> None:
    values = {key: value for key, value in PRODUCTION_SETTINGS.items() if key != "mfa_encryption_key"}
    with pytest.raises(ConfigurationError, match="TENANTGRAPH_MFA_ENCRYPTION_KEY is the development default"):
        Settings(**values).check_for_production()  # type: ignore[arg-type]
    Settings(**PRODUCTION_SETTINGS).check_for_production()  # type: ignore[arg-type]


USER_MFA = "query($id: ID!) { user(id: $id) { email mfaEnabled } }"


async def test_mfa_enabled_shows_to_whoever_reads_the_user(runtime: Runtime, gql: GraphQLClient) -> None:
    enabled = await enable_mfa(gql, await quick_account(runtime, "acme"))
    admin = await quick_account(runtime, "acme", Role.TENANT_ADMIN)
    stranger = await quick_account(runtime, "globex", Role.TENANT_ADMIN)
    variables = {"id": enabled.account.gid}

    seen = (await gql(USER_MFA, variables, token=admin.token)).ok()["user"]
    assert seen == {"email": enabled.account.email, "mfaEnabled": True}
    assert (await gql(USER_MFA, variables, token=stranger.token)).error_codes == ["NOT_FOUND"]
    assert (await gql(USER_MFA, {"id": global_id("User", admin.user_id)}, token=admin.token)).ok()["user"][
        "mfaEnabled"
    ] is False


async def test_the_demo_mfa_account_signs_in_with_its_documented_secret(
    runtime: Runtime, gql: GraphQLClient
) -> None:
    await seed_demo(runtime.db)
    await seed_demo(runtime.db)  # idempotent
    demo = Account(DEMO_MFA_TENANT, uuid.uuid4(), uuid.uuid4(), DEMO_MFA_EMAIL, DEMO_PASSWORD, "", "")

    challenge = (await login(gql, demo))["mfaChallenge"]
    signed_in = await complete(gql, challenge, code=pyotp.TOTP(DEMO_MFA_SECRET).now())
    assert signed_in["userErrors"] == [] and signed_in["user"] == {
        "email": DEMO_MFA_EMAIL,
        "mfaEnabled": True,
    }
    recovered = await complete(
        gql, (await login(gql, demo))["mfaChallenge"], recovery_code=DEMO_MFA_RECOVERY_CODES[0]
    )
    assert recovered["accessToken"]
