"""MFA in tests: the operations, real TOTP codes (pyotp) and turning MFA on through the API."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pyotp

from tests.support.graphql import GraphQLClient
from tests.support.identity import Account

ERRORS = "userErrors { field code message }"
LOGIN = f"""
mutation Login($input: LoginInput!) {{
  login(input: $input) {{
    accessToken refreshToken refreshTokenExpiresAt mfaRequired mfaChallenge mfaChallengeExpiresAt
    mfaMethod mfaCodeSentTo
    user {{ email }} {ERRORS}
  }}
}}
"""
SETUP = f"""
mutation Setup($input: SetupMfaInput) {{
  setupMfa(input: $input) {{ secret otpauthUri recoveryCodes {ERRORS} }}
}}
"""
VERIFY = f"""
mutation Verify($input: VerifyMfaSetupInput!) {{
  verifyMfaSetup(input: $input) {{ accessToken refreshToken user {{ email mfaEnabled }} {ERRORS} }}
}}
"""
COMPLETE = f"""
mutation Complete($input: CompleteMfaLoginInput!) {{
  completeMfaLogin(input: $input) {{
    accessToken refreshToken mfaRequired user {{ email mfaEnabled }} {ERRORS}
  }}
}}
"""
DISABLE = f"""
mutation Disable($input: DisableMfaInput!) {{
  disableMfa(input: $input) {{ user {{ mfaEnabled }} {ERRORS} }}
}}
"""
ME = "{ me { email mfaEnabled } }"


def code_of(secret: str, steps_ahead: int = 0) -> str:
    """The authenticator's code ``steps_ahead`` time steps (30 s) from now."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


@dataclass
class MfaAccount:
    account: Account
    secret: str
    recovery_codes: list[str]


async def login(gql: GraphQLClient, account: Account, password: str | None = None) -> dict[str, Any]:
    variables = {
        "input": {
            "tenantSlug": account.tenant_slug,
            "email": account.email,
            "password": password or account.password,
        }
    }
    result: dict[str, Any] = (await gql(LOGIN, variables)).ok()["login"]
    return result


async def setup(gql: GraphQLClient, token: str | None = None, challenge: str | None = None) -> dict[str, Any]:
    variables = {"input": {"challenge": challenge}} if challenge else {}
    result: dict[str, Any] = (await gql(SETUP, variables, token=token)).ok()["setupMfa"]
    return result


async def verify(
    gql: GraphQLClient, code: str, token: str | None = None, challenge: str | None = None
) -> dict[str, Any]:
    variables = {"input": {"code": code, "challenge": challenge}}
    result: dict[str, Any] = (await gql(VERIFY, variables, token=token)).ok()["verifyMfaSetup"]
    return result


async def complete(
    gql: GraphQLClient, challenge: str, code: str | None = None, recovery_code: str | None = None
) -> dict[str, Any]:
    variables = {"input": {"challenge": challenge, "code": code, "recoveryCode": recovery_code}}
    result: dict[str, Any] = (await gql(COMPLETE, variables)).ok()["completeMfaLogin"]
    return result


async def enable_mfa(gql: GraphQLClient, account: Account) -> MfaAccount:
    """Sets MFA up and verifies it with the current code (its time step is spent: the next code
    the account may use is ``code_of(secret, 1)``)."""
    started = await setup(gql, account.token)
    assert started["userErrors"] == [], started
    verified = await verify(gql, code_of(started["secret"]), account.token)
    assert verified["userErrors"] == [] and verified["user"]["mfaEnabled"] is True, verified
    return MfaAccount(account, started["secret"], started["recoveryCodes"])
