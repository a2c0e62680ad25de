"""``InProcessPaymentProvider``: used when no provider URL is configured (the embedded run and the
demo). It behaves like Stripe's test mode, keeping its state in this process's memory (see the
class and ``services/billing/provider.py``'s docstring for its test cards)."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from services.billing.provider import (
    PENDING,
    REQUIRES_PAYMENT_METHOD,
    SUCCEEDED,
    ProviderBalance,
    ProviderCard,
    ProviderDispute,
    ProviderError,
    ProviderIntent,
    ProviderRefund,
)

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
    dispute_evidence: dict[str, dict[str, str]] = field(default_factory=dict)
    # The first answer to each idempotency key, replayed as Stripe does.
    _intent_replies: dict[tuple[str, str], ProviderIntent] = field(default_factory=dict)
    _refund_replies: dict[str, ProviderRefund] = field(default_factory=dict)
    _card_replies: dict[str, ProviderCard] = field(default_factory=dict)
    _customer_replies: dict[str, str] = field(default_factory=dict)
    _account_replies: dict[str, str] = field(default_factory=dict)
    # Money transferred to each connected account, by currency (it is at once available).
    transferred: dict[str, dict[str, int]] = field(default_factory=dict)
    _transfer_replies: dict[str, str] = field(default_factory=dict)
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

    async def create_customer(self, *, reference: str, email: str | None, idempotency_key: str) -> str:
        if idempotency_key in self._customer_replies:
            return self._customer_replies[idempotency_key]
        customer_id = self._new_id("cus")
        self._customer_replies[idempotency_key] = customer_id
        return customer_id

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

    async def submit_dispute_evidence(
        self, dispute_id: str, *, evidence: Mapping[str, str], idempotency_key: str
    ) -> ProviderDispute:
        # Disputes come from the card holder's bank; in memory every one is known and under review.
        self.dispute_evidence[dispute_id] = dict(evidence)
        return ProviderDispute(id=dispute_id, status="under_review")

    async def attach_payment_method(self, method_id: str, *, customer: str) -> ProviderCard:
        method = self.methods.get(method_id)
        if method is None:
            raise ProviderError(f"No such PaymentMethod: '{method_id}'", code="resource_missing")
        # Any customer is accepted: ours are stored in the database and outlive this memory.
        return method

    async def detach_payment_method(self, method_id: str) -> None:
        self.methods.pop(method_id, None)

    async def create_connected_account(
        self, *, reference: str, email: str | None, idempotency_key: str
    ) -> str:
        if idempotency_key not in self._account_replies:
            self._account_replies[idempotency_key] = self._new_id("acct")
        return self._account_replies[idempotency_key]

    async def create_account_link(self, account_id: str, *, refresh_url: str, return_url: str) -> str:
        # Nothing to fill in here: the seller goes straight back, onboarded.
        return return_url

    async def get_balance(self, account_id: str) -> ProviderBalance:
        return ProviderBalance(available=dict(self.transferred.get(account_id, {})), pending={})

    async def create_transfer(
        self, *, amount: int, currency: str, destination: str, transfer_group: str, idempotency_key: str
    ) -> str:
        if idempotency_key not in self._transfer_replies:
            balance = self.transferred.setdefault(destination, {})
            balance[currency.upper()] = balance.get(currency.upper(), 0) + amount
            self._transfer_replies[idempotency_key] = self._new_id("tr")
        return self._transfer_replies[idempotency_key]

    async def aclose(self) -> None:
        return None
