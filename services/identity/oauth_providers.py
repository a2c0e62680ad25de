"""The OAuth 2.0 / OIDC providers we sign in with, behind one small adapter over Authlib's async
client: the authorization URL (state, PKCE S256, nonce), the code exchange, and who the user is
(an id_token verified against the provider's JWKS; GitHub, which has none, by /user and
/user/emails). Google, GitHub and Microsoft have their endpoints built in; any other provider is
an OIDC issuer found by discovery. Every endpoint can be overridden in the settings."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.integrations.httpx_client import (  # type: ignore[import-untyped]  # no hints shipped
    AsyncOAuth2Client,
    OAuthError,
)
from authlib.oidc.core import CodeIDToken  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from core.oauth_settings import OAuthProviderSettings, ProviderKind
from core.settings import ConfigurationError, Settings
from services.identity.errors import IdentityErrorCode

HTTP_TIMEOUT_SECONDS = 10.0
# Discovery documents and key sets are kept this long; an id_token signed with a key we do not
# know yet fetches the key set again at once (key rotation).
DOCUMENT_TTL_SECONDS = 3600.0
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]
CLOCK_LEEWAY_SECONDS = 120
GITHUB_ACCEPT = "application/vnd.github+json"


@dataclass(frozen=True, slots=True)
class Endpoints:
    authorize_url: str = ""
    token_url: str = ""
    userinfo_url: str = ""
    jwks_url: str = ""
    issuer: str = ""
    end_session_url: str = ""
    api_url: str = ""


BUILT_IN: dict[str, Endpoints] = {
    "google": Endpoints(
        authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
        token_url="https://oauth2.googleapis.com/token",
        userinfo_url="https://openidconnect.googleapis.com/v1/userinfo",
        jwks_url="https://www.googleapis.com/oauth2/v3/certs",
        issuer="https://accounts.google.com",
    ),
    "microsoft": Endpoints(
        authorize_url="https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
        token_url="https://login.microsoftonline.com/common/oauth2/v2.0/token",
        userinfo_url="https://graph.microsoft.com/oidc/userinfo",
        jwks_url="https://login.microsoftonline.com/common/discovery/v2.0/keys",
        issuer="https://login.microsoftonline.com/{tenantid}/v2.0",
    ),
    "github": Endpoints(
        authorize_url="https://github.com/login/oauth/authorize",
        token_url="https://github.com/login/oauth/access_token",
        api_url="https://api.github.com",
    ),
    "oidc": Endpoints(),
}


class OAuthFailure(Exception):
    """The provider refused, failed or answered something we cannot trust."""

    def __init__(self, code: IdentityErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class ProviderIdentity:
    """Who the provider says signed in."""

    subject: str
    email: str | None
    email_verified: bool
    name: str | None
    # What else the provider calls the account (a Telegram @username).
    display_name: str | None = None
    # False for a provider that has no email addresses at all (Telegram): accounts without one.
    has_email: bool = True


_documents: dict[str, tuple[float, Any]] = {}


async def _fetch_json(url: str, *, fresh: bool = False) -> Any:
    """A public JSON document (discovery, key set), cached for DOCUMENT_TTL_SECONDS."""
    cached = _documents.get(url)
    if cached is not None and not fresh and time.monotonic() - cached[0] < DOCUMENT_TTL_SECONDS:
        return cached[1]
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS) as client:
        response = await client.get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        document = response.json()
    _documents[url] = (time.monotonic(), document)
    return document


def _verified(value: object) -> bool:
    # Some issuers send the claim as a string.
    return value is True or value == "true"


class Provider:
    def __init__(self, name: str, config: OAuthProviderSettings) -> None:
        self.name = name
        self.config = config
        self.kind: ProviderKind = config.kind or (name if name in BUILT_IN else "oidc")  # type: ignore[assignment]
        self.display_name = config.display_name or name.capitalize()
        built_in = BUILT_IN[self.kind]
        self._configured = Endpoints(
            authorize_url=config.authorize_url or built_in.authorize_url,
            token_url=config.token_url or built_in.token_url,
            userinfo_url=config.userinfo_url or built_in.userinfo_url,
            jwks_url=config.jwks_url or built_in.jwks_url,
            issuer=(config.issuer or built_in.issuer).rstrip("/"),
            end_session_url=config.end_session_url,
            api_url=(config.api_url or built_in.api_url).rstrip("/"),
        )
        if self.kind == "oidc" and not self._configured.issuer:
            raise ConfigurationError(f"OAuth provider {name!r}: an OIDC provider needs its issuer")

    @property
    def is_oidc(self) -> bool:
        return self.kind != "github"

    @property
    def scope(self) -> str:
        return self.config.scope or (
            "read:user user:email" if self.kind == "github" else "openid email profile"
        )

    async def endpoints(self) -> Endpoints:
        """The configured endpoints, with what is missing from the issuer's discovery document."""
        configured = self._configured
        if self.kind != "oidc":
            return configured
        try:
            found = await _fetch_json(f"{configured.issuer}/.well-known/openid-configuration")
        except (httpx.HTTPError, ValueError) as exc:
            raise OAuthFailure(
                IdentityErrorCode.OAUTH_PROVIDER_ERROR, f"The provider's discovery failed: {exc}"[:300]
            ) from exc
        if not isinstance(found, dict):
            raise OAuthFailure(IdentityErrorCode.OAUTH_PROVIDER_ERROR, "The discovery document is no object.")
        return Endpoints(
            authorize_url=configured.authorize_url or str(found.get("authorization_endpoint", "")),
            token_url=configured.token_url or str(found.get("token_endpoint", "")),
            userinfo_url=configured.userinfo_url or str(found.get("userinfo_endpoint", "")),
            jwks_url=configured.jwks_url or str(found.get("jwks_uri", "")),
            issuer=str(found.get("issuer") or configured.issuer).rstrip("/"),
            end_session_url=configured.end_session_url or str(found.get("end_session_endpoint", "")),
        )

    def _client(self, redirect_uri: str) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.config.client_id,
            client_secret=self.config.client_secret,
            scope=self.scope,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            # Every provider here takes the secret in the body; GitHub takes nothing else.
            token_endpoint_auth_method="client_secret_post",
            timeout=HTTP_TIMEOUT_SECONDS,
        )

    async def authorization_url(self, redirect_uri: str, state: str, code_verifier: str, nonce: str) -> str:
        endpoints = await self.endpoints()
        extra = {"nonce": nonce} if self.is_oidc else {}
        client = self._client(redirect_uri)
        url, _ = client.create_authorization_url(
            endpoints.authorize_url, state=state, code_verifier=code_verifier, **extra
        )
        await client.aclose()
        return str(url)

    async def identity(
        self, code: str, redirect_uri: str, code_verifier: str | None, nonce: str | None
    ) -> ProviderIdentity:
        """Exchanges the code and reads who signed in; OAuthFailure when anything is wrong."""
        endpoints = await self.endpoints()
        async with self._client(redirect_uri) as client:
            try:
                token = await client.fetch_token(
                    endpoints.token_url, code=code, code_verifier=code_verifier, redirect_uri=redirect_uri
                )
            except (OAuthError, httpx.HTTPError, ValueError, KeyError) as exc:
                raise OAuthFailure(
                    IdentityErrorCode.OAUTH_EXCHANGE_FAILED, f"The provider refused the code: {exc}"[:300]
                ) from exc
            try:
                if self.is_oidc:
                    return await self._oidc_identity(client, endpoints, token, nonce)
                return await self._github_identity(client, endpoints)
            except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                raise OAuthFailure(
                    IdentityErrorCode.OAUTH_PROVIDER_ERROR, f"Reading the account failed: {exc}"[:300]
                ) from exc

    async def _oidc_identity(
        self, client: AsyncOAuth2Client, endpoints: Endpoints, token: dict[str, Any], nonce: str | None
    ) -> ProviderIdentity:
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise OAuthFailure(IdentityErrorCode.OAUTH_INVALID_ID_TOKEN, "The provider sent no id_token.")
        claims = await self._verified_claims(endpoints, id_token, str(token.get("access_token", "")), nonce)
        email, verified = claims.get("email"), _verified(claims.get("email_verified"))
        if self.kind == "microsoft":
            # Microsoft sends no email_verified; xms_edov says the domain's owner verified it.
            verified = verified or _verified(claims.get("xms_edov"))
        if email is None and endpoints.userinfo_url:
            info = (await client.get(endpoints.userinfo_url)).raise_for_status().json()
            if info.get("sub") == claims["sub"]:
                email, verified = info.get("email"), _verified(info.get("email_verified"))
        return ProviderIdentity(
            subject=str(claims["sub"]),
            email=email if isinstance(email, str) else None,
            email_verified=verified,
            name=claims.get("name") if isinstance(claims.get("name"), str) else None,
        )

    async def _verified_claims(
        self, endpoints: Endpoints, id_token: str, access_token: str, nonce: str | None
    ) -> dict[str, Any]:
        registry = JWSRegistry(algorithms=ID_TOKEN_ALGORITHMS)
        try:
            try:
                keys = KeySet.import_key_set(await _fetch_json(endpoints.jwks_url))
                decoded = jwt.decode(id_token, keys, registry=registry)
            except JoseError:
                # Perhaps a key published since we fetched the set: once more with a fresh one.
                keys = KeySet.import_key_set(await _fetch_json(endpoints.jwks_url, fresh=True))
                decoded = jwt.decode(id_token, keys, registry=registry)
            issuer = endpoints.issuer
            if "{tenantid}" in issuer:
                issuer = issuer.replace("{tenantid}", str(decoded.claims.get("tid", "")))
            claims = CodeIDToken(
                decoded.claims,
                decoded.header,
                {
                    "iss": {"essential": True, "values": [issuer]},
                    "aud": {"essential": True, "values": [self.config.client_id]},
                },
                {"nonce": nonce, "client_id": self.config.client_id, "access_token": access_token},
            )
            claims.validate(leeway=CLOCK_LEEWAY_SECONDS)
        except (JoseError, ValueError) as exc:
            raise OAuthFailure(
                IdentityErrorCode.OAUTH_INVALID_ID_TOKEN, f"The id_token is not valid: {exc}"[:300]
            ) from exc
        return dict(claims)

    async def _github_identity(self, client: AsyncOAuth2Client, endpoints: Endpoints) -> ProviderIdentity:
        headers = {"Accept": GITHUB_ACCEPT}
        user = (await client.get(f"{endpoints.api_url}/user", headers=headers)).raise_for_status().json()
        emails = (
            (await client.get(f"{endpoints.api_url}/user/emails", headers=headers)).raise_for_status().json()
        )
        verified = [entry for entry in emails if entry.get("verified") is True]
        # The primary address if it is verified, else any verified one.
        chosen = next((entry for entry in verified if entry.get("primary") is True), None) or next(
            iter(verified), None
        )
        name = user.get("name") or user.get("login")
        return ProviderIdentity(
            subject=str(user["id"]),
            email=chosen["email"] if chosen else None,
            email_verified=chosen is not None,
            name=name if isinstance(name, str) else None,
        )

    async def end_session_url(self) -> str:
        """Where RP-initiated logout sends the browser; empty when the provider has none."""
        if not self.is_oidc:
            return ""
        try:
            return (await self.endpoints()).end_session_url
        except OAuthFailure:
            return ""  # logout here already happened: the provider's part is best effort


def configured_providers(settings: Settings) -> dict[str, Provider]:
    """Every provider of the settings (ConfigurationError for one that cannot work)."""
    return {name: Provider(name, config) for name, config in settings.oauth_providers.items()}


def provider_named(settings: Settings, name: str) -> Provider | None:
    config = settings.oauth_providers.get(name)
    return Provider(name, config) if config is not None else None
