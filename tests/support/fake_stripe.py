"""A fake Stripe for tests: a small Starlette app speaking the REST shapes billing uses, served by
uvicorn in a thread on a free port. Our code reaches it over real HTTP, exactly as it would reach
Stripe; nothing of ours is patched.

Routes: POST /v1/payment_intents, POST /v1/payment_intents/{id}/confirm, GET /v1/payment_intents/{id},
POST /v1/refunds, POST /v1/customers, POST /v1/payment_methods, POST /v1/payment_methods/{id}/attach
(to a known customer only) and /detach, POST /v1/disputes/{id} (evidence for a dispute a test
opened with ``open_dispute``, as the card holder's bank would; ``submit=true`` puts it under review).
Behaviour: bearer secret key required (401 otherwise); form-encoded bodies; ``Idempotency-Key``
replays the first answer (a different body with the same key is an ``idempotency_error``);
test card tokens ``tok_visa`` (4242), ``tok_mastercard`` (4444), ``tok_chargeDeclined`` (0002:
confirmation answers 402 ``card_declined``) and ``tok_refundFail`` (5126: refunds stay
``pending``); refunds above the unrefunded amount are refused."""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.harness.servers import HOST, free_port
from tests.support.fake_server import ThreadedServer

Form = dict[str, str]
Handler = Callable[[Request, Form], Awaitable[JSONResponse]]

CARDS = {
    "tok_visa": ("visa", "4242"),
    "tok_mastercard": ("mastercard", "4444"),
    "tok_chargeDeclined": ("visa", "0002"),
    "tok_refundFail": ("visa", "5126"),
}


def _error(status: int, kind: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message, **extra}}, status_code=status)


def _metadata(form: Form) -> dict[str, str]:
    """``metadata[key]=value`` form fields as Stripe stores them: {key: value}."""
    return {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")}


def _missing(what: str) -> JSONResponse:
    return _error(404, "invalid_request_error", f"No such {what}.", code="resource_missing")


@dataclass
class Call:
    method: str
    path: str
    form: Form
    idempotency_key: str | None


@dataclass
class FakeStripe:
    secret_key: str = "sk_test_fake_" + "0" * 16
    port: int = field(default_factory=free_port)
    calls: list[Call] = field(default_factory=list)
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    methods: dict[str, dict[str, Any]] = field(default_factory=dict)
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    disputes: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Stripe Connect: connected accounts, and the transfers to them (their balance).
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    transfers: dict[str, dict[str, Any]] = field(default_factory=dict)
    # An outage: the next N calls to a path are answered 500 (Stripe's api_error), then it works.
    outages: dict[str, int] = field(default_factory=dict)
    _replies: dict[str, tuple[Form, int, dict[str, Any]]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _server: ThreadedServer = field(default_factory=lambda: ThreadedServer("fake-stripe"))

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):05d}{secrets.token_hex(8)}"

    def calls_to(self, path_prefix: str) -> list[Call]:
        return [c for c in self.calls if c.path.startswith(path_prefix)]

    def open_dispute(self, payment_intent: str, amount: int, reason: str = "fraudulent") -> dict[str, Any]:
        """A chargeback of the card holder's bank: the dispute object its webhook carries."""
        dispute = {
            "id": self._id("du"),
            "object": "dispute",
            "amount": amount,
            "currency": self.intents[payment_intent]["currency"],
            "payment_intent": payment_intent,
            "reason": reason,
            "status": "needs_response",
            "evidence": {},
            "evidence_details": {"due_by": int(time.time()) + 7 * 86400, "submission_count": 0},
        }
        self.disputes[dispute["id"]] = dispute
        return dict(dispute)

    # ---- the app ------------------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/payment_intents", self._endpoint(self._create_intent), methods=["POST"]),
                Route("/v1/payment_intents/{id}", self._endpoint(self._get_intent), methods=["GET"]),
                Route("/v1/payment_intents/{id}/confirm", self._endpoint(self._confirm), methods=["POST"]),
                Route("/v1/refunds", self._endpoint(self._refund), methods=["POST"]),
                Route("/v1/customers", self._endpoint(self._create_customer), methods=["POST"]),
                Route("/v1/payment_methods", self._endpoint(self._create_method), methods=["POST"]),
                Route("/v1/payment_methods/{id}/attach", self._endpoint(self._attach), methods=["POST"]),
                Route("/v1/payment_methods/{id}/detach", self._endpoint(self._detach), methods=["POST"]),
                Route("/v1/disputes/{id}", self._endpoint(self._update_dispute), methods=["POST"]),
                Route("/v1/accounts", self._endpoint(self._create_account), methods=["POST"]),
                Route("/v1/account_links", self._endpoint(self._account_link), methods=["POST"]),
                Route("/v1/balance", self._endpoint(self._balance), methods=["GET"]),
                Route("/v1/transfers", self._endpoint(self._transfer), methods=["POST"]),
            ]
        )

    def _endpoint(self, handler: Handler) -> Callable[[Request], Awaitable[JSONResponse]]:
        """``handler`` behind the checks every call goes through (``_call``)."""

        async def endpoint(request: Request) -> JSONResponse:
            form, early = await self._call(request)
            return early if early is not None else await handler(request, form)

        return endpoint

    async def _call(self, request: Request) -> tuple[Form, JSONResponse | None]:
        if request.headers.get("authorization") != f"Bearer {self.secret_key}":
            return {}, _error(401, "invalid_request_error", "Invalid API Key provided.")
        form = {k: str(v) for k, v in (await request.form()).items()}
        key = request.headers.get("idempotency-key")
        self.calls.append(Call(request.method, request.url.path, form, key))
        if self.outages.get(request.url.path, 0) > 0:
            self.outages[request.url.path] -= 1
            return form, _error(500, "api_error", "An error occurred with our connection to Stripe.")
        if key:
            replay = self._replies.get(key)
            if replay is not None:
                if replay[0] != form:
                    return form, _error(
                        400, "idempotency_error", "Keys for idempotent requests can only be used once."
                    )
                return form, JSONResponse(replay[2], status_code=replay[1])
        return form, None

    def _answer(self, request: Request, form: Form, body: dict[str, Any], status: int = 200) -> JSONResponse:
        key = request.headers.get("idempotency-key")
        if key:
            self._replies[key] = (form, status, body)
        return JSONResponse(body, status_code=status)

    def _intent_view(self, intent: dict[str, Any]) -> dict[str, Any]:
        return dict(intent)

    async def _create_intent(self, request: Request, form: Form) -> JSONResponse:
        try:
            amount = int(form["amount"])
        except (KeyError, ValueError):
            return _error(400, "invalid_request_error", "Missing required param: amount.", param="amount")
        if amount < 1 or "currency" not in form:
            return _error(400, "invalid_request_error", "Invalid amount or currency.")
        intent_id = self._id("pi")
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_received": 0,
            "currency": form["currency"],
            "status": "requires_payment_method",
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(12)}",
            "metadata": _metadata(form),
            "created": int(time.time()),
            "last_payment_error": None,
            "charges": {"object": "list", "data": []},
            "amount_refunded": 0,
        }
        self.intents[intent_id] = intent
        return self._answer(request, form, self._intent_view(intent))

    async def _get_intent(self, request: Request, form: Form) -> JSONResponse:
        intent = self.intents.get(request.path_params["id"])
        if intent is None:
            return _missing("payment_intent")
        return JSONResponse(self._intent_view(intent))

    async def _confirm(self, request: Request, form: Form) -> JSONResponse:
        intent = self.intents.get(request.path_params["id"])
        if intent is None:
            return _missing("payment_intent")
        if intent["status"] == "succeeded":
            return _error(
                400,
                "invalid_request_error",
                "This PaymentIntent has already succeeded.",
                code="payment_intent_unexpected_state",
            )
        method = self.methods.get(form.get("payment_method", ""))
        if method is None:
            return _missing("PaymentMethod")
        card = method["card"]
        if card["last4"] == "0002":
            error = {
                "type": "card_error",
                "code": "card_declined",
                "decline_code": "generic_decline",
                "message": "Your card was declined.",
                "payment_method": method,
            }
            intent.update(
                status="requires_payment_method", last_payment_error=error, payment_method=method["id"]
            )
            body = {"error": {**error, "payment_intent": self._intent_view(intent)}}
            return self._answer(request, form, body, status=402)
        charge = {
            "id": self._id("ch"),
            "object": "charge",
            "amount": intent["amount"],
            "paid": True,
            "payment_method_details": {
                "type": "card",
                "card": {"brand": card["brand"], "last4": card["last4"]},
            },
        }
        intent.update(
            status="succeeded",
            amount_received=intent["amount"],
            last_payment_error=None,
            payment_method=method["id"],
            latest_charge=charge["id"],
            charges={"object": "list", "data": [charge]},
            card_last4=card["last4"],
        )
        return self._answer(request, form, self._intent_view(intent))

    async def _refund(self, request: Request, form: Form) -> JSONResponse:
        intent = self.intents.get(form.get("payment_intent", ""))
        if intent is None:
            return _missing("payment_intent")
        if intent["status"] != "succeeded":
            return _error(
                400,
                "invalid_request_error",
                "This PaymentIntent has no charge.",
                code="charge_not_refundable",
            )
        amount = int(form.get("amount") or intent["amount"] - intent["amount_refunded"])
        if amount > intent["amount"] - intent["amount_refunded"]:
            return _error(
                400,
                "invalid_request_error",
                "Refund amount is greater than unrefunded amount on charge.",
                code="amount_too_large",
            )
        intent["amount_refunded"] += amount
        refund = {
            "id": self._id("re"),
            "object": "refund",
            "amount": amount,
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "status": "pending" if intent.get("card_last4") == "5126" else "succeeded",
            "reason": form.get("reason"),
            "metadata": _metadata(form),
        }
        self.refunds[refund["id"]] = refund
        return self._answer(request, form, refund)

    async def _create_customer(self, request: Request, form: Form) -> JSONResponse:
        customer = {
            "id": self._id("cus"),
            "object": "customer",
            "email": form.get("email"),
            "metadata": _metadata(form),
            "created": int(time.time()),
        }
        self.customers[customer["id"]] = customer
        return self._answer(request, form, customer)

    async def _create_account(self, request: Request, form: Form) -> JSONResponse:
        account = {
            "id": self._id("acct"),
            "object": "account",
            "type": form.get("type"),
            "email": form.get("email"),
            "metadata": _metadata(form),
            "payouts_enabled": False,
        }
        self.accounts[account["id"]] = account
        return self._answer(request, form, account)

    async def _account_link(self, request: Request, form: Form) -> JSONResponse:
        if form.get("account") not in self.accounts:
            return _missing("account")
        link = {
            "object": "account_link",
            "url": f"{self.url}/connect/onboarding/{form['account']}",
            "expires_at": int(time.time()) + 300,
        }
        return self._answer(request, form, link)

    async def _balance(self, request: Request, form: Form) -> JSONResponse:
        account = request.headers.get("stripe-account")
        if account not in self.accounts:
            return _missing("account")
        totals: dict[str, int] = {}
        for transfer in self.transfers.values():
            if transfer["destination"] == account:
                totals[transfer["currency"]] = totals.get(transfer["currency"], 0) + transfer["amount"]
        # Money transferred to a connected account is pending there for a while, as in Stripe.
        pending = [{"amount": amount, "currency": currency} for currency, amount in sorted(totals.items())]
        return JSONResponse({"object": "balance", "available": [], "pending": pending})

    async def _transfer(self, request: Request, form: Form) -> JSONResponse:
        if form.get("destination") not in self.accounts:
            return _missing("destination")
        transfer = {
            "id": self._id("tr"),
            "object": "transfer",
            "amount": int(form["amount"]),
            "currency": form["currency"],
            "destination": form["destination"],
            "transfer_group": form.get("transfer_group"),
        }
        self.transfers[transfer["id"]] = transfer
        return self._answer(request, form, transfer)

    async def _update_dispute(self, request: Request, form: Form) -> JSONResponse:
        dispute = self.disputes.get(request.path_params["id"])
        if dispute is None:
            return _missing("dispute")
        if dispute["status"] not in ("needs_response", "warning_needs_response"):
            return _error(
                400, "invalid_request_error", "This dispute is already closed or its evidence submitted."
            )
        dispute["evidence"].update({k[9:-1]: v for k, v in form.items() if k.startswith("evidence[")})
        if form.get("submit") == "true":
            dispute["status"] = "under_review"
            dispute["evidence_details"]["submission_count"] += 1
        return self._answer(request, form, {**dispute, "evidence": dict(dispute["evidence"])})

    async def _create_method(self, request: Request, form: Form) -> JSONResponse:
        card = CARDS.get(form.get("card[token]", ""))
        if form.get("type") != "card" or card is None:
            return _error(400, "invalid_request_error", "No such token.", code="resource_missing")
        method = {
            "id": self._id("pm"),
            "object": "payment_method",
            "type": "card",
            "card": {"brand": card[0], "last4": card[1], "exp_month": 12, "exp_year": 2034},
            "customer": None,
        }
        self.methods[method["id"]] = method
        return self._answer(request, form, method)

    async def _attach(self, request: Request, form: Form) -> JSONResponse:
        customer = form.get("customer", "")
        if customer not in self.customers:
            return _missing(f"customer: '{customer}'")
        return self._set_customer(request, form, customer)

    async def _detach(self, request: Request, form: Form) -> JSONResponse:
        return self._set_customer(request, form, None)

    def _set_customer(self, request: Request, form: Form, customer: str | None) -> JSONResponse:
        method = self.methods.get(request.path_params["id"])
        if method is None:
            return _missing("PaymentMethod")
        method["customer"] = customer
        return self._answer(request, form, method)

    # ---- serving ----------------------------------------------------------------------------

    def start(self) -> None:
        self._server.start(self.app(), self.port)

    def stop(self) -> None:
        self._server.stop()
