"""The PaymentProvider adapter: the few calls billing makes to a card processor.

``StripeHttpProvider`` speaks Stripe's REST API (form-encoded requests, bearer secret key,
``Idempotency-Key`` on every POST) to a configurable base URL: Stripe itself, a Stripe-compatible
processor (Hyperswitch offers such an API) or, in the tests, tests/support/fake_stripe.py.

``InProcessPaymentProvider`` is used when no provider URL is configured (the embedded run and the
demo). It behaves like Stripe's test mode, keeping its state in this process's memory:
card tokens ``tok_visa`` (4242), ``tok_mastercard`` (4444), ``tok_amex`` (8431),
``tok_chargeDeclined`` (0002, every confirmation is declined) and ``tok_refundFail`` (5126, refunds
stay pending, as Stripe's refund-failure test card does until it sends ``refund.updated``); the
Stripe test payment methods ``pm_card_visa``, ``pm_card_chargeDeclined``, ... are accepted as is.
Its memory ends with the process: refunds of payment intents it does not know (paid before a
restart, or the demo's seeded payment) are accepted, bounded by our own books only.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from core.settings import Settings

# Provider statuses (Stripe's words), as the adapter reports them.
SUCCEEDED = "succeeded"
PROCESSING = "processing"
PENDING = "pending"
FAILED = "failed"
CANCELED = "canceled"
REQUIRES_PAYMENT_METHOD = "requires_payment_method"


class ProviderError(Exception):
    """The provider refused a request, or could not be reached (``transient``)."""

    def __init__(self, message: str, *, code: str | None = None, transient: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.transient = transient


@dataclass(frozen=True, slots=True)
class ProviderIntent:
    id: str
    client_secret: str | None
    status: str
    amount: int
    currency: str
    card_last4: str | None = None
    # Set when a confirmation was declined.
    failure_code: str | None = None
    failure_message: str | None = None


@dataclass(frozen=True, slots=True)
class ProviderRefund:
    id: str
    status: str
    amount: int
    failure_reason: str | None = None


@dataclass(frozen=True, slots=True)
class ProviderCard:
    id: str
    brand: str | None
    last4: str | None
    exp_month: int | None
    exp_year: int | None


class PaymentProvider(Protocol):
    name: str

    async def create_payment_intent(
        self, *, amount: int, currency: str, metadata: Mapping[str, str], idempotency_key: str
    ) -> ProviderIntent: ...

    async def confirm_payment_intent(
        self, intent_id: str, *, payment_method: str, idempotency_key: str
    ) -> ProviderIntent:
        """A declined card is not an error: the intent comes back with ``failure_message``."""

    async def create_refund(
        self, *, payment_intent: str, amount: int, reason: str | None, idempotency_key: str
    ) -> ProviderRefund: ...

    async def create_payment_method(self, *, card_token: str, idempotency_key: str) -> ProviderCard: ...

    async def attach_payment_method(self, method_id: str, *, customer: str) -> ProviderCard: ...

    async def detach_payment_method(self, method_id: str) -> None: ...

    async def aclose(self) -> None: ...


def create_payment_provider(settings: Settings) -> PaymentProvider:
    if settings.payment_provider_url:
        return StripeHttpProvider(settings.payment_provider_url, settings.payment_provider_secret_key)
    return InProcessPaymentProvider()


def customer_reference(user_id: object) -> str:
    """The provider-side customer of one of our users (cards are attached to it)."""
    return f"cus_tg_{str(user_id).replace('-', '')}"


# ---- Stripe over HTTP ---------------------------------------------------------------------


def form_fields(params: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Stripe's form encoding: nested mappings as ``a[b]=``, lists as ``a[0]=``."""
    fields: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if value is None:
            continue
        if isinstance(value, Mapping):
            fields.extend(form_fields(value, name))
        elif isinstance(value, list | tuple):
            fields.extend(form_fields({str(i): v for i, v in enumerate(value)}, name))
        elif isinstance(value, bool):
            fields.append((name, "true" if value else "false"))
        else:
            fields.append((name, str(value)))
    return fields


def _card(obj: Mapping[str, Any]) -> ProviderCard:
    card = obj.get("card") or {}
    return ProviderCard(
        id=obj["id"],
        brand=card.get("brand"),
        last4=card.get("last4"),
        exp_month=card.get("exp_month"),
        exp_year=card.get("exp_year"),
    )


def _intent(obj: Mapping[str, Any]) -> ProviderIntent:
    error = obj.get("last_payment_error") or {}
    last4 = None
    charges = (obj.get("charges") or {}).get("data") or []
    if charges:
        last4 = ((charges[-1].get("payment_method_details") or {}).get("card") or {}).get("last4")
    if last4 is None and error:
        last4 = ((error.get("payment_method") or {}).get("card") or {}).get("last4")
    return ProviderIntent(
        id=obj["id"],
        client_secret=obj.get("client_secret"),
        status=obj["status"],
        amount=int(obj["amount"]),
        currency=str(obj["currency"]).upper(),
        card_last4=last4,
        failure_code=error.get("decline_code") or error.get("code"),
        failure_message=error.get("message"),
    )


class StripeHttpProvider:
    name = "stripe"

    def __init__(self, base_url: str, secret_key: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {secret_key}", "Stripe-Version": "2024-06-20"},
            timeout=timeout,
        )

    async def _post(
        self, path: str, params: Mapping[str, Any], idempotency_key: str | None = None
    ) -> dict[str, Any]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        try:
            response = await self._client.post(path, data=dict(form_fields(params)), headers=headers)
        except httpx.HTTPError as exc:
            raise ProviderError(f"Payment provider unreachable: {exc}", transient=True) from exc
        try:
            body: dict[str, Any] = response.json()
        except ValueError as exc:
            raise ProviderError(
                f"Payment provider answered {response.status_code} without JSON",
                transient=response.status_code >= 500,
            ) from exc
        if response.status_code >= 400:
            error = body.get("error") or {}
            if error.get("type") == "card_error" and error.get("payment_intent"):
                # A declined confirmation: report the intent with its last_payment_error.
                intent = dict(error["payment_intent"])
                intent.setdefault("last_payment_error", error)
                return intent
            raise ProviderError(
                error.get("message") or f"Payment provider answered {response.status_code}",
                code=error.get("code"),
                transient=response.status_code >= 500 or response.status_code == 429,
            )
        return body

    async def create_payment_intent(
        self, *, amount: int, currency: str, metadata: Mapping[str, str], idempotency_key: str
    ) -> ProviderIntent:
        body = await self._post(
            "/v1/payment_intents",
            {
                "amount": amount,
                "currency": currency.lower(),
                "metadata": dict(metadata),
                "payment_method_types": ["card"],
            },
            idempotency_key,
        )
        return _intent(body)

    async def confirm_payment_intent(
        self, intent_id: str, *, payment_method: str, idempotency_key: str
    ) -> ProviderIntent:
        body = await self._post(
            f"/v1/payment_intents/{intent_id}/confirm", {"payment_method": payment_method}, idempotency_key
        )
        return _intent(body)

    async def create_refund(
        self, *, payment_intent: str, amount: int, reason: str | None, idempotency_key: str
    ) -> ProviderRefund:
        body = await self._post(
            "/v1/refunds",
            {
                "payment_intent": payment_intent,
                "amount": amount,
                "reason": "requested_by_customer",
                "metadata": {"reason": reason[:500]} if reason else None,
            },
            idempotency_key,
        )
        return ProviderRefund(
            id=body["id"],
            status=body["status"],
            amount=int(body["amount"]),
            failure_reason=body.get("failure_reason"),
        )

    async def create_payment_method(self, *, card_token: str, idempotency_key: str) -> ProviderCard:
        body = await self._post(
            "/v1/payment_methods", {"type": "card", "card": {"token": card_token}}, idempotency_key
        )
        return _card(body)

    async def attach_payment_method(self, method_id: str, *, customer: str) -> ProviderCard:
        return _card(await self._post(f"/v1/payment_methods/{method_id}/attach", {"customer": customer}))

    async def detach_payment_method(self, method_id: str) -> None:
        await self._post(f"/v1/payment_methods/{method_id}/detach", {})

    async def aclose(self) -> None:
        await self._client.aclose()


# ---- in process ---------------------------------------------------------------------------

TEST_CARDS: dict[str, tuple[str, str]] = {
    # token suffix -> (brand, last4)
    "visa": ("visa", "4242"),
    "mastercard": ("mastercard", "4444"),
    "amex": ("amex", "8431"),
    "chargeDeclined": ("visa", "0002"),
    "refundFail": ("visa", "5126"),
}
DECLINING_LAST4 = "0002"
REFUND_FAILING_LAST4 = "5126"


def card_of_test_token(token_or_method: str) -> tuple[str, str] | None:
    """``tok_visa`` / ``pm_card_visa`` -> ("visa", "4242"); None for an unknown token."""
    for prefix in ("tok_", "pm_card_"):
        if token_or_method.startswith(prefix):
            return TEST_CARDS.get(token_or_method.removeprefix(prefix))
    return None


@dataclass
class _Intent:
    id: str
    amount: int
    currency: str
    client_secret: str
    status: str = REQUIRES_PAYMENT_METHOD
    last4: str | None = None
    refunded: int = 0


@dataclass
class InProcessPaymentProvider:
    """A Stripe test-mode look-alike in memory (see the module docstring)."""

    name: str = "stripe"
    intents: dict[str, _Intent] = field(default_factory=dict)
    methods: dict[str, ProviderCard] = field(default_factory=dict)
    # The first answer to each idempotency key, replayed as Stripe does.
    _intent_replies: dict[tuple[str, str], ProviderIntent] = field(default_factory=dict)
    _refund_replies: dict[str, ProviderRefund] = field(default_factory=dict)
    _card_replies: dict[str, ProviderCard] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):06d}{secrets.token_hex(6)}"

    def _view(self, intent: _Intent, failure: tuple[str, str] | None = None) -> ProviderIntent:
        return ProviderIntent(
            id=intent.id,
            client_secret=intent.client_secret,
            status=intent.status,
            amount=intent.amount,
            currency=intent.currency,
            card_last4=intent.last4,
            failure_code=failure[0] if failure else None,
            failure_message=failure[1] if failure else None,
        )

    async def create_payment_intent(
        self, *, amount: int, currency: str, metadata: Mapping[str, str], idempotency_key: str
    ) -> ProviderIntent:
        key = ("intent", idempotency_key)
        if key in self._intent_replies:
            return self._intent_replies[key]
        intent_id = self._new_id("pi")
        intent = _Intent(intent_id, amount, currency.upper(), f"{intent_id}_secret_{secrets.token_hex(12)}")
        self.intents[intent_id] = intent
        reply = self._view(intent)
        self._intent_replies[key] = reply
        return reply

    async def confirm_payment_intent(
        self, intent_id: str, *, payment_method: str, idempotency_key: str
    ) -> ProviderIntent:
        key = ("confirm", idempotency_key)
        if key in self._intent_replies:
            return self._intent_replies[key]
        intent = self.intents.get(intent_id)
        if intent is None:
            raise ProviderError(f"No such payment_intent: '{intent_id}'", code="resource_missing")
        if intent.status == SUCCEEDED:
            raise ProviderError(
                "This PaymentIntent has already succeeded.", code="payment_intent_unexpected_state"
            )
        card = self.methods.get(payment_method)
        last4 = card.last4 if card else (card_of_test_token(payment_method) or (None, None))[1]
        if last4 is None:
            raise ProviderError(f"No such PaymentMethod: '{payment_method}'", code="resource_missing")
        intent.last4 = last4
        if last4 == DECLINING_LAST4:
            intent.status = REQUIRES_PAYMENT_METHOD
            reply = self._view(intent, ("card_declined", "Your card was declined."))
        else:
            intent.status = SUCCEEDED
            reply = self._view(intent)
        self._intent_replies[key] = reply
        return reply

    async def create_refund(
        self, *, payment_intent: str, amount: int, reason: str | None, idempotency_key: str
    ) -> ProviderRefund:
        if idempotency_key in self._refund_replies:
            return self._refund_replies[idempotency_key]
        intent = self.intents.get(payment_intent)
        if intent is None:
            # Paid before this process started (its memory is gone) or seeded by the demo: our own
            # books already bound the amount, so the refund is accepted.
            reply = ProviderRefund(id=self._new_id("re"), status=SUCCEEDED, amount=amount)
            self._refund_replies[idempotency_key] = reply
            return reply
        if intent.status != SUCCEEDED:
            raise ProviderError("This PaymentIntent has no successful charge.", code="charge_not_refundable")
        if amount > intent.amount - intent.refunded:
            raise ProviderError(
                "Refund amount is greater than the unrefunded amount.", code="amount_too_large"
            )
        intent.refunded += amount
        status = PENDING if intent.last4 == REFUND_FAILING_LAST4 else SUCCEEDED
        reply = ProviderRefund(id=self._new_id("re"), status=status, amount=amount)
        self._refund_replies[idempotency_key] = reply
        return reply

    async def create_payment_method(self, *, card_token: str, idempotency_key: str) -> ProviderCard:
        if idempotency_key in self._card_replies:
            return self._card_replies[idempotency_key]
        card = card_of_test_token(card_token)
        if card is None:
            raise ProviderError(f"No such token: '{card_token}'", code="resource_missing")
        method = ProviderCard(self._new_id("pm"), card[0], card[1], 12, 2034)
        self.methods[method.id] = method
        self._card_replies[idempotency_key] = method
        return method

    async def attach_payment_method(self, method_id: str, *, customer: str) -> ProviderCard:
        method = self.methods.get(method_id)
        if method is None:
            raise ProviderError(f"No such PaymentMethod: '{method_id}'", code="resource_missing")
        return method

    async def detach_payment_method(self, method_id: str) -> None:
        self.methods.pop(method_id, None)

    async def aclose(self) -> None:
        return None
