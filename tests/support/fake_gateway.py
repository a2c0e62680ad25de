"""A fake ZarinPal for tests: a small Starlette app speaking the v4 payment gateway protocol, served
by uvicorn in a thread on a free port. Our code reaches it over real HTTP, exactly as it would reach
ZarinPal; nothing of ours is patched.

Routes: POST /pg/v4/payment/request.json (merchant_id, amount, currency, callback_url,
description, metadata -> data.code 100 and data.authority), GET /pg/StartPay/{authority} (the
payer's page: ``?pay=ok`` (the default) takes the money, ``?pay=cancel`` does not; both answer 302
to callback_url?Authority=...&Status=OK|NOK as ZarinPal does), POST /pg/v4/payment/verify.json
(merchant_id, amount, authority -> data.code 100 with ref_id and card_pan the first time, 101
after; errors.code -50 when the amount is not the requested one, -51 when not paid, -54 for an
unknown authority, -11 for a wrong merchant). ``fail_verify`` makes verification answer 500."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.harness.servers import HOST, free_port
from tests.support.fake_server import ThreadedServer

CARD_PAN = "502229******5995"
CURRENCIES = ("IRR", "IRT")


def _error(code: int, message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"data": [], "errors": {"code": code, "message": message, "validations": []}}, status)


@dataclass
class GatewayCall:
    path: str
    body: dict[str, Any]


@dataclass
class FakePayment:
    authority: str
    amount: int
    currency: str
    callback_url: str
    description: str
    metadata: dict[str, Any]
    paid: bool = False
    # What the payer was actually charged (a tampered request charges another amount).
    charged: int | None = None
    ref_id: int | None = None
    verifications: int = 0


@dataclass
class FakeGateway:
    merchant_id: str = field(default_factory=lambda: secrets.token_hex(18)[:36])
    port: int = field(default_factory=free_port)
    calls: list[GatewayCall] = field(default_factory=list)
    payments: dict[str, FakePayment] = field(default_factory=dict)
    fail_verify: bool = False
    _refs: itertools.count[int] = field(default_factory=lambda: itertools.count(201_000))
    _server: ThreadedServer = field(default_factory=lambda: ThreadedServer("fake-gateway"))

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def calls_to(self, suffix: str) -> list[GatewayCall]:
        return [c for c in self.calls if c.path.endswith(suffix)]

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/pg/v4/payment/request.json", self._request, methods=["POST"]),
                Route("/pg/StartPay/{authority}", self._start_pay, methods=["GET"]),
                Route("/pg/v4/payment/verify.json", self._verify, methods=["POST"]),
            ]
        )

    async def _body(self, request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else {}
        self.calls.append(GatewayCall(request.url.path, body))
        return body

    async def _request(self, request: Request) -> Response:
        body = await self._body(request)
        if body.get("merchant_id") != self.merchant_id:
            return _error(-11, "The merchant is not active.", 401)
        amount = body.get("amount")
        currency = body.get("currency", "IRR")
        if not isinstance(amount, int) or amount < 1000 or currency not in CURRENCIES:
            return _error(-9, "Validation error: amount or currency.")
        if not body.get("callback_url") or not body.get("description"):
            return _error(-9, "Validation error: callback_url and description are required.")
        authority = "A" + secrets.token_hex(18)[:35].upper()
        self.payments[authority] = FakePayment(
            authority,
            amount,
            currency,
            str(body["callback_url"]),
            str(body["description"]),
            dict(body.get("metadata") or {}),
        )
        data = {"code": 100, "message": "Success", "authority": authority, "fee_type": "Merchant", "fee": 0}
        return JSONResponse({"data": data, "errors": []})

    async def _start_pay(self, request: Request) -> Response:
        payment = self.payments.get(request.path_params["authority"])
        if payment is None:
            return Response("unknown authority", status_code=404)
        ok = request.query_params.get("pay", "ok") == "ok"
        if ok:
            payment.paid = True
            payment.charged = payment.charged if payment.charged is not None else payment.amount
        query = urlencode({"Authority": payment.authority, "Status": "OK" if ok else "NOK"})
        separator = "&" if "?" in payment.callback_url else "?"
        return RedirectResponse(f"{payment.callback_url}{separator}{query}", status_code=302)

    async def _verify(self, request: Request) -> Response:
        body = await self._body(request)
        if self.fail_verify:
            return JSONResponse({"message": "internal error"}, status_code=500)
        if body.get("merchant_id") != self.merchant_id:
            return _error(-11, "The merchant is not active.", 401)
        payment = self.payments.get(str(body.get("authority")))
        if payment is None:
            return _error(-54, "Invalid authority.", 404)
        if body.get("amount") != payment.amount or (payment.paid and payment.charged != payment.amount):
            return _error(-50, "Session is not valid, amounts values is not the same.")
        if not payment.paid:
            return _error(-51, "Session is not valid, session is not active paid try.")
        payment.verifications += 1
        first = payment.ref_id is None
        if first:
            payment.ref_id = next(self._refs)
        data = {
            "code": 100 if first else 101,
            "message": "Verified" if first else "Verified before",
            "card_hash": secrets.token_hex(32).upper(),
            "card_pan": CARD_PAN,
            "ref_id": payment.ref_id,
            "fee_type": "Merchant",
            "fee": 0,
        }
        return JSONResponse({"data": data, "errors": []})

    def start(self) -> None:
        self._server.start(self.app(), self.port)

    def stop(self) -> None:
        self._server.stop()
