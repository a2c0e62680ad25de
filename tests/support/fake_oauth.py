"""A fake OAuth 2.0 / OpenID Connect provider for tests: a small Starlette app served by uvicorn in
a thread on a free port. Our code reaches it over real HTTP, exactly as it would reach Google or
GitHub, and a test's browser (httpx) follows its redirects; nothing of ours is patched.

One server speaks four shapes, each under its own prefix:
- ``/google``: OIDC without discovery: ``/authorize``, ``/token`` (an RS256 ``id_token``),
  ``/userinfo``, ``/jwks``; issuer ``<url>/google``.
- ``/microsoft``: the same, with Microsoft's issuer per directory (``<url>/microsoft/<tid>/v2.0``),
  a ``tid`` claim and no ``email_verified`` (``xms_edov`` instead).
- ``/oidc``: a generic issuer with discovery (``/.well-known/openid-configuration``) and an
  ``end_session_endpoint`` (``/logout``, which redirects to ``post_logout_redirect_uri``).
- ``/github``: no id_token; ``/login/oauth/authorize``, ``/login/oauth/access_token`` (errors as
  200 with ``{"error": ...}``, as GitHub does), ``/api/user`` and ``/api/user/emails``.

Like a strict provider, it refuses an authorization request without a registered client, a
redirect URI, a state or a PKCE S256 challenge (400, no redirect), and a token request whose client
secret, redirect URI or code verifier do not match the code's (``invalid_grant``); codes are single
use. ``sign_in_as`` chooses who the next approval signs in; ``deny_next`` makes the next
authorization answer ``error=access_denied``; ``sign_with`` swaps the id_token signing key."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from authlib.oidc.core.util import create_half_hash
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.harness.servers import HOST, free_port
from tests.support.fake_server import ThreadedServer

OIDC_SHAPES = ("google", "microsoft", "oidc")
SHAPES = (*OIDC_SHAPES, "github")
MICROSOFT_DIRECTORY = "9188040d-6c67-4c5b-b112-36a304b66dad"


def new_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"}, private=True)


@dataclass
class FakeAccount:
    subject: str
    email: str | None
    email_verified: bool = True
    name: str = "Fake Person"
    login: str = "fake-person"


@dataclass
class Grant:
    shape: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str | None
    account: FakeAccount
    used: bool = False


@dataclass
class FakeOAuth:
    port: int = field(default_factory=free_port)
    # Requests as received: the authorization requests' query and the token requests' form.
    authorizations: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    logouts: list[dict[str, str]] = field(default_factory=list)
    key: RSAKey = field(default_factory=lambda: new_key("fake-key-1"))
    _signing_key: RSAKey | None = None
    _next: dict[str, FakeAccount] = field(default_factory=dict)
    _deny: set[str] = field(default_factory=set)
    _codes: dict[str, Grant] = field(default_factory=dict)
    _tokens: dict[str, tuple[str, FakeAccount]] = field(default_factory=dict)
    _server: ThreadedServer = field(default_factory=lambda: ThreadedServer("fake-oauth"))

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def client_id(self, shape: str) -> str:
        return f"{shape}-client-id"

    def client_secret(self, shape: str) -> str:
        return f"{shape}-client-secret"

    def issuer(self, shape: str) -> str:
        if shape == "microsoft":
            return f"{self.url}/microsoft/{MICROSOFT_DIRECTORY}/v2.0"
        return f"{self.url}/{shape}"

    # ---- what a test controls

    def sign_in_as(self, shape: str, account: FakeAccount) -> None:
        """The account every later approval of ``shape`` signs in (until changed)."""
        self._next[shape] = account

    def deny_next(self, shape: str) -> None:
        self._deny.add(shape)

    def sign_with(self, key: RSAKey | None) -> None:
        """Sign id_tokens with ``key`` (one the JWKS does not publish); None: the published key."""
        self._signing_key = key

    def reset(self) -> None:
        self.authorizations.clear()
        self.token_requests.clear()
        self.logouts.clear()
        self._next.clear()
        self._deny.clear()
        self._signing_key = None

    # ---- the protocol

    async def _authorize(self, request: Request) -> Response:
        shape = request.path_params.get("shape", "github")  # GitHub's own paths have none
        query = dict(request.query_params)
        self.authorizations.append({"shape": shape, **query})
        redirect_uri = query.get("redirect_uri", "")
        problems = [
            what
            for what, ok in (
                ("unknown client_id", query.get("client_id") == self.client_id(shape)),
                ("response_type must be code", query.get("response_type") == "code"),
                ("redirect_uri missing", bool(redirect_uri)),
                ("state missing", bool(query.get("state"))),
                ("PKCE S256 required", query.get("code_challenge_method") == "S256"),
                ("code_challenge missing", bool(query.get("code_challenge"))),
                (
                    "scope must include openid",
                    shape == "github" or "openid" in query.get("scope", "").split(),
                ),
            )
            if not ok
        ]
        if problems:
            return PlainTextResponse("; ".join(problems), status_code=400)
        back: dict[str, str] = {"state": query["state"]}
        if shape in self._deny:
            self._deny.discard(shape)
            back["error"] = "access_denied"
            back["error_description"] = "The user denied access."
        else:
            code = secrets.token_urlsafe(24)
            self._codes[code] = Grant(
                shape,
                query["client_id"],
                redirect_uri,
                query["code_challenge"],
                query.get("nonce"),
                self._next.get(shape) or FakeAccount(f"{shape}-default", f"default@{shape}.example"),
            )
            back["code"] = code
        return RedirectResponse(f"{redirect_uri}?{urlencode(back)}", status_code=302)

    def _client_of(self, request: Request, form: dict[str, str]) -> tuple[str, str]:
        authorization = request.headers.get("authorization", "")
        if authorization.lower().startswith("basic "):
            client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
            return client_id, secret
        return form.get("client_id", ""), form.get("client_secret", "")

    async def _token(self, request: Request) -> Response:
        shape = request.path_params.get("shape", "github")  # GitHub's own paths have none
        form = {k: str(v) for k, v in (await request.form()).items()}
        self.token_requests.append({"shape": shape, **form})
        client_id, secret = self._client_of(request, form)
        if client_id != self.client_id(shape) or secret != self.client_secret(shape):
            return self._token_error(shape, "invalid_client", 401)
        grant = self._codes.get(form.get("code", ""))
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if (
            form.get("grant_type") != "authorization_code"
            or grant is None
            or grant.used
            or grant.shape != shape
            or grant.client_id != client_id
            or grant.redirect_uri != form.get("redirect_uri")
            or grant.code_challenge != challenge
        ):
            return self._token_error(shape, "invalid_grant", 400)
        grant.used = True
        access_token = secrets.token_urlsafe(24)
        self._tokens[access_token] = (shape, grant.account)
        body: dict[str, Any] = {"access_token": access_token, "token_type": "Bearer", "expires_in": 3600}
        if shape in OIDC_SHAPES:
            body["id_token"] = self._id_token(shape, grant, access_token)
        return JSONResponse(body)

    def _token_error(self, shape: str, error: str, status: int) -> Response:
        # GitHub answers 200 with the error in the body.
        return JSONResponse({"error": error}, status_code=200 if shape == "github" else status)

    def _id_token(self, shape: str, grant: Grant, access_token: str) -> str:
        now = int(time.time())
        account = grant.account
        claims: dict[str, Any] = {
            "iss": self.issuer(shape),
            "sub": account.subject,
            "aud": grant.client_id,
            "iat": now,
            "exp": now + 300,
            "name": account.name,
            "at_hash": create_half_hash(access_token, "RS256").decode(),
        }
        if account.email is not None:
            claims["email"] = account.email
            if shape == "microsoft":
                claims["tid"] = MICROSOFT_DIRECTORY
                claims["xms_edov"] = account.email_verified
            else:
                claims["email_verified"] = account.email_verified
        if grant.nonce:
            claims["nonce"] = grant.nonce
        key = self._signing_key or self.key
        return jwt.encode({"alg": "RS256", "kid": key.kid or ""}, claims, key)

    def _bearer(self, request: Request) -> tuple[str, FakeAccount] | None:
        authorization = request.headers.get("authorization", "")
        return self._tokens.get(authorization.removeprefix("Bearer ").strip())

    async def _userinfo(self, request: Request) -> Response:
        found = self._bearer(request)
        if found is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        account = found[1]
        return JSONResponse(
            {
                "sub": account.subject,
                "email": account.email,
                "email_verified": account.email_verified,
                "name": account.name,
            }
        )

    async def _jwks(self, request: Request) -> Response:
        return JSONResponse(KeySet([self.key]).as_dict(private=False))

    async def _discovery(self, request: Request) -> Response:
        base = f"{self.url}/oidc"
        return JSONResponse(
            {
                "issuer": base,
                "authorization_endpoint": f"{base}/authorize",
                "token_endpoint": f"{base}/token",
                "userinfo_endpoint": f"{base}/userinfo",
                "jwks_uri": f"{base}/jwks",
                "end_session_endpoint": f"{base}/logout",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    async def _logout(self, request: Request) -> Response:
        query = dict(request.query_params)
        self.logouts.append(query)
        target = query.get("post_logout_redirect_uri")
        if target:
            return RedirectResponse(target, status_code=302)
        return PlainTextResponse("signed out")

    async def _github_user(self, request: Request) -> Response:
        found = self._bearer(request)
        if found is None or found[0] != "github":
            return JSONResponse({"message": "Bad credentials"}, status_code=401)
        account = found[1]
        return JSONResponse({"id": int(account.subject), "login": account.login, "name": account.name})

    async def _github_emails(self, request: Request) -> Response:
        found = self._bearer(request)
        if found is None or found[0] != "github":
            return JSONResponse({"message": "Bad credentials"}, status_code=401)
        account = found[1]
        emails = [
            {"email": f"{account.login}@users.noreply.github.example", "primary": False, "verified": True}
        ]
        if account.email is not None:
            emails.insert(0, {"email": account.email, "primary": True, "verified": account.email_verified})
        return JSONResponse(emails)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/oidc/.well-known/openid-configuration", self._discovery),
                Route("/oidc/logout", self._logout),
                Route("/github/login/oauth/authorize", self._authorize),
                Route("/github/login/oauth/access_token", self._token, methods=["POST"]),
                Route("/github/api/user", self._github_user),
                Route("/github/api/user/emails", self._github_emails),
                Route("/{shape}/authorize", self._authorize),
                Route("/{shape}/token", self._token, methods=["POST"]),
                Route("/{shape}/userinfo", self._userinfo),
                Route("/{shape}/jwks", self._jwks),
            ]
        )

    def start(self) -> None:
        self._server.start(self.app(), self.port)

    def stop(self) -> None:
        self._server.stop()
