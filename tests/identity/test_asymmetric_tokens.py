"""Access tokens signed with RS256, ES256 and EdDSA keys from the settings: signed in and used
through GraphQL, and verified by a third party with nothing but the JWKS document the app serves;
key rotation; production refuses keys that cannot work; HS256 publishes no key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from core.settings import ConfigurationError, Settings
from server.app import create_app
from tests.conftest import PRODUCTION_SETTINGS, TEST_SIGNING_KEY, app_client, make_settings, root_logging_kept
from tests.support.graphql import GraphQLClient
from tests.support.identity import Account, Identity

ME = "{ me { email } }"
JWKS_PATH = "/.well-known/jwks.json"
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k"}

KEY_MAKERS: dict[str, Callable[[], PrivateKeyTypes]] = {
    "RS256": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "ES256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "EdDSA": lambda: ed25519.Ed25519PrivateKey.generate(),
}


def private_pem(key: PrivateKeyTypes) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_pem(key: PrivateKeyTypes) -> str:
    public = key.public_key()
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Identity]]:
    with root_logging_kept():
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            async with app_client(app) as client:
                yield client, Identity(app.state.runtime.db, GraphQLClient(client))


def keyed(base: Settings, algorithm: str, key: PrivateKeyTypes, **overrides: object) -> Settings:
    return make_settings(
        base.database_url, "memory://", jwt_algorithm=algorithm, jwt_private_key=private_pem(key), **overrides
    )


async def me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token}"})


def data(response: httpx.Response) -> Any:
    """The data of an answer without errors (development answers carry extensions too)."""
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return body["data"]


async def fetch_jwks(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get(JWKS_PATH)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "public, max-age=300"
    jwks: dict[str, Any] = response.json()
    return jwks


def third_party_verifies(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """What a gateway does with PyJWT and our JWKS only: pick the token's key by kid, verify."""
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwt.PyJWKSet.from_dict(jwks).keys if k.key_id == kid)
    claims: dict[str, Any] = jwt.decode(
        token, key.key, algorithms=[key.algorithm_name], audience="tenantgraph-api", issuer="tenantgraph"
    )
    return claims


def hs256_with(secret: bytes, claims: dict[str, Any], kid: str) -> str:
    """An HS256 token keyed with ``secret`` (PyJWT refuses to use a public key as HMAC secret)."""

    def part(value: bytes) -> str:
        return base64.urlsafe_b64encode(value).rstrip(b"=").decode()

    signing_input = ".".join(
        part(json.dumps(value).encode()) for value in ({"alg": "HS256", "typ": "JWT", "kid": kid}, claims)
    )
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{part(signature)}"


@pytest.mark.parametrize("algorithm", list(KEY_MAKERS))
async def test_tokens_signed_with_a_private_key_work_and_verify_with_the_jwks(
    settings: Settings, algorithm: str
) -> None:
    key = KEY_MAKERS[algorithm]()
    async with running(keyed(settings, algorithm, key)) as (client, identity):
        account: Account = await identity.account(f"keys-{algorithm.lower()}")  # logs in via GraphQL
        header = jwt.get_unverified_header(account.token)
        assert data(await me(client, account.token)) == {"me": {"email": account.email}}

        jwks = await fetch_jwks(client)
        [published] = jwks["keys"]
        assert published["kid"] == header["kid"] and header["alg"] == algorithm
        assert (published["alg"], published["use"]) == (algorithm, "sig")
        assert not PRIVATE_MEMBERS & set(published)
        claims = third_party_verifies(account.token, jwks)
        assert (claims["sub"], claims["tid"]) == (str(account.user_id), str(account.tenant_id))

        # Signed by someone else under our kid: neither the third party nor the app accepts it.
        forged = jwt.encode(
            claims, KEY_MAKERS[algorithm](), algorithm=algorithm, headers={"kid": header["kid"]}
        )
        with pytest.raises(jwt.InvalidSignatureError):
            third_party_verifies(forged, jwks)
        # The public key used as an HMAC secret (algorithm confusion) is refused too.
        confused = hs256_with(public_pem(key).encode(), claims, header["kid"])
        for refused in (forged, confused):
            response = await me(client, refused)
            assert response.status_code == 401
            assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_rotation_keeps_earlier_tokens_valid_and_published(settings: Settings) -> None:
    old, new = KEY_MAKERS["ES256"](), KEY_MAKERS["ES256"]()
    async with running(keyed(settings, "ES256", old)) as (client, identity):
        earlier = await identity.account("keys-rotation")
        old_jwks = await fetch_jwks(client)
    rotated = keyed(settings, "ES256", new, jwt_public_keys=public_pem(old), jwt_key_id="2026-12")
    async with running(rotated) as (client, identity):
        assert data(await me(client, earlier.token)) == {"me": {"email": earlier.email}}
        later = await identity.account("keys-rotation")
        assert jwt.get_unverified_header(later.token)["kid"] == "2026-12"
        jwks = await fetch_jwks(client)
        assert [k["kid"] for k in jwks["keys"]] == ["2026-12", old_jwks["keys"][0]["kid"]]
        for account in (earlier, later):
            assert third_party_verifies(account.token, jwks)["sub"] == str(account.user_id)
    # Once the old key is dropped, its tokens are refused.
    async with running(keyed(settings, "ES256", new)) as (client, _):
        assert (await me(client, earlier.token)).status_code == 401


async def test_the_private_key_can_come_from_a_file(settings: Settings, tmp_path: Path) -> None:
    key = KEY_MAKERS["EdDSA"]()
    path = tmp_path / "signing.pem"
    path.write_text(private_pem(key))
    from_file = make_settings(
        settings.database_url, "memory://", jwt_algorithm="EdDSA", jwt_private_key_file=str(path)
    )
    assert from_file.token_keys.key_id == keyed(settings, "EdDSA", key).token_keys.key_id
    async with running(from_file) as (client, identity):
        account = await identity.account("keys-file")
        assert data(await me(client, account.token)) == {"me": {"email": account.email}}


async def test_hs256_publishes_no_key(http: httpx.AsyncClient, identity: Identity) -> None:
    account = await identity.account("acme")
    response = await http.get(JWKS_PATH)
    assert response.json() == {"keys": []}
    secret = TEST_SIGNING_KEY.encode()
    for leaked in (TEST_SIGNING_KEY, base64.urlsafe_b64encode(secret).rstrip(b"=").decode()):
        assert leaked not in response.text
    header = jwt.get_unverified_header(account.token)
    assert header["alg"] == "HS256" and header["kid"]


# ---- settings that cannot work are refused at start ------------------------------------------


def production(**overrides: object) -> Settings:
    return Settings(**{**PRODUCTION_SETTINGS, **overrides})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("algorithm", "key", "reason"),
    [
        ("RS256", None, "TENANTGRAPH_JWT_ALGORITHM is RS256 but no private key is set"),
        ("RS256", lambda: KEY_MAKERS["ES256"](), "is an EC key on secp256r1; RS256 needs an RSA key"),
        (
            "RS256",
            lambda: rsa.generate_private_key(public_exponent=65537, key_size=1024),
            "is an RSA key of 1024 bits; RS256 needs at least 2048 bits",
        ),
        ("ES256", lambda: ec.generate_private_key(ec.SECP384R1()), "ES256 needs an EC key on secp256r1"),
        ("EdDSA", lambda: KEY_MAKERS["ES256"](), "EdDSA needs an Ed25519 or Ed448 key"),
        (
            "HS256",
            lambda: KEY_MAKERS["EdDSA"](),
            "TENANTGRAPH_JWT_PRIVATE_KEY is set but TENANTGRAPH_JWT_ALGORITHM is HS256",
        ),
        ("none", None, "TENANTGRAPH_JWT_ALGORITHM 'none' is not one of HS256"),
        ("HS1024", None, "TENANTGRAPH_JWT_ALGORITHM 'HS1024' is not one of"),
    ],
    ids=[
        "rs256-no-key",
        "rs256-ec-key",
        "rs256-short",
        "es256-p384",
        "eddsa-ec-key",
        "hs256-with-key",
        "none",
        "unknown",
    ],
)
def test_production_refuses_keys_that_cannot_work(
    algorithm: str, key: Callable[[], PrivateKeyTypes] | None, reason: str
) -> None:
    settings = production(jwt_algorithm=algorithm, jwt_private_key=private_pem(key()) if key else "")
    with pytest.raises(ConfigurationError, match=reason):
        settings.check_for_production()


def test_production_names_every_key_problem_and_no_unused_secret() -> None:
    with pytest.raises(ConfigurationError) as refused:
        Settings(production=True, jwt_algorithm="RS256").check_for_production()
    message = str(refused.value)
    assert "TENANTGRAPH_JWT_ALGORITHM is RS256 but no private key is set" in message
    assert "TENANTGRAPH_PAYMENT_PROVIDER_URL is not set" in message
    # The HMAC secret signs nothing with RS256: its development default is no problem.
    assert "TENANTGRAPH_JWT_SIGNING_KEY" not in message


def test_a_public_key_that_does_not_fit_is_named() -> None:
    settings = production(
        jwt_algorithm="ES256",
        jwt_private_key=private_pem(KEY_MAKERS["ES256"]()),
        jwt_public_keys=public_pem(KEY_MAKERS["ES256"]()) + public_pem(KEY_MAKERS["RS256"]()),
    )
    with pytest.raises(
        ConfigurationError, match="TENANTGRAPH_JWT_PUBLIC_KEYS key 2 is an RSA key of 2048 bits"
    ):
        settings.check_for_production()


def test_an_unreadable_key_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / f"{uuid.uuid4()}.pem"
    with pytest.raises(ConfigurationError, match="TENANTGRAPH_JWT_PRIVATE_KEY_FILE cannot be read"):
        production(jwt_algorithm="EdDSA", jwt_private_key_file=str(missing)).check_for_production()


def test_development_refuses_an_asymmetric_algorithm_without_a_key_too(restore_logging: None) -> None:
    with pytest.raises(ConfigurationError, match="no private key is set"):
        create_app(Settings(jwt_algorithm="ES256"))


def test_production_accepts_a_working_key() -> None:
    settings = production(jwt_algorithm="EdDSA", jwt_private_key=private_pem(KEY_MAKERS["EdDSA"]()))
    settings.check_for_production()
    assert settings.token_keys.jwks["keys"][0]["crv"] == "Ed25519"
