"""A local Web Push service for the tests: the real protocol, over HTTP.

Each ``browser()`` is a subscription as a browser would make it (a P-256 key pair and a 16-byte
auth secret) whose endpoint is this server. A POST to it must carry a valid VAPID Authorization
header (RFC 8292: ``vapid t=<ES256 JWT>, k=<public key>``, the JWT signed by that key, its ``aud``
this server's origin, not expired) and an aes128gcm body (RFC 8188/8291), which the server decrypts
with the browser's private key and auth secret — exactly what a browser's push service and the
browser do. ``gone`` makes an endpoint answer 410, as a push service does for an unsubscribed one."""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import http_ece
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.harness.servers import HOST, free_port
from tests.support.fake_server import ThreadedServer


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Browser:
    token: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    @property
    def p256dh(self) -> str:
        return b64url(
            self.private_key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        )

    @property
    def subscription(self) -> dict[str, str]:
        return {"endpoint": self.endpoint, "p256dh": self.p256dh, "auth": b64url(self.auth)}


@dataclass
class Received:
    token: str
    payload: dict[str, Any]
    vapid_key: str
    claims: dict[str, Any]
    ttl: str | None


@dataclass
class FakePushService:
    port: int = field(default_factory=free_port)
    browsers: dict[str, Browser] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)
    _server: ThreadedServer = field(default_factory=lambda: ThreadedServer("fake-web-push"))

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"

    def browser(self) -> Browser:
        token = secrets.token_urlsafe(8)
        found = Browser(
            token, f"{self.origin}/push/{token}", ec.generate_private_key(ec.SECP256R1()), os.urandom(16)
        )
        self.browsers[token] = found
        return found

    def start(self) -> None:
        self._server.start(
            Starlette(routes=[Route("/push/{token}", self._push, methods=["POST"])]), self.port
        )

    def stop(self) -> None:
        self._server.stop()

    def _refuse(self, why: str, status: int = 401) -> Response:
        self.refused.append(why)
        return Response(why, status_code=status)

    async def _push(self, request: Request) -> Response:
        browser = self.browsers.get(request.path_params["token"])
        if browser is None or browser.token in self.gone:
            return Response(status_code=410)
        scheme, _, params = request.headers.get("authorization", "").partition(" ")
        fields = dict(part.strip().split("=", 1) for part in params.split(",") if "=" in part)
        if scheme.lower() != "vapid" or "t" not in fields or "k" not in fields:
            return self._refuse("no VAPID Authorization header")
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(fields["k"]))
        try:
            claims = jwt.decode(fields["t"], key, algorithms=["ES256"], audience=self.origin)
        except jwt.PyJWTError as error:
            return self._refuse(f"bad VAPID token: {error}")
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")) or claims["exp"] <= time.time():
            return self._refuse("bad VAPID claims")
        if request.headers.get("content-encoding") != "aes128gcm":
            return self._refuse("not aes128gcm", 415)
        body = await request.body()
        try:
            plain = http_ece.decrypt(
                body, private_key=browser.private_key, auth_secret=browser.auth, version="aes128gcm"
            )
        except Exception as error:  # any decryption failure is the sender's fault
            return self._refuse(f"cannot decrypt: {error!r}", 400)
        self.received.append(
            Received(browser.token, json.loads(plain), fields["k"], claims, request.headers.get("ttl"))
        )
        return Response(status_code=201)
