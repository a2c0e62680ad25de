"""The PaymentProvider adapter: the few calls billing makes to a card processor.

``stripe_provider.py:StripeHttpProvider`` speaks Stripe's REST API (form-encoded requests, bearer
secret key, ``Idempotency-Key`` on every POST) to a configurable base URL: Stripe itself, a
Stripe-compatible processor (Hyperswitch offers such an API) or, in the tests,
tests/support/fake_stripe.py.

``in_process_provider.py:InProcessPaymentProvider`` is used when no provider URL is configured (the
embedded run and the demo). It behaves like Stripe's test mode, keeping its state in this process's
memory: card tokens ``tok_visa`` (4242), ``tok_mastercard`` (4444), ``tok_amex`` (8431),
``tok_chargeDeclined`` (0002, every confirmation is declined) and ``tok_refundFail`` (5126, refunds
stay pending, as Stripe's refund-failure test card does until it sends ``refund.updated``); the
Stripe test payment methods ``pm_card_visa``, ``pm_card_chargeDeclined``, ... are accepted as is.
Its memory ends with the process: refunds of payment intents it does not know (paid before a
restart, or the demo's seeded payment) are accepted, bounded by our own books only, and so are
cards attached to customers it did not create (they are stored in the database).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

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
class ProviderDispute:
    id: str
    status: str  # Stripe's words: needs_response, under_review, won, lost, ...


@dataclass(frozen=True, slots=True)
class ProviderBalance:
    """A connected (seller) account's money, minor units by ISO currency: ``available`` can be paid
    out to the seller's bank, ``pending`` not yet."""

    available: Mapping[str, int]
    pending: Mapping[str, int]


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

    async def create_customer(self, *, reference: str, email: str | None, idempotency_key: str) -> str:
        """Creates the provider's customer of one of our users (``reference``); returns its id."""

    async def create_payment_method(self, *, card_token: str, idempotency_key: str) -> ProviderCard: ...

    async def submit_dispute_evidence(
        self, dispute_id: str, *, evidence: Mapping[str, str], idempotency_key: str
    ) -> ProviderDispute:
        """Sends the evidence (Stripe's ``evidence[...]`` names) and submits it for review."""

    async def attach_payment_method(self, method_id: str, *, customer: str) -> ProviderCard:
        """``customer``: an id ``create_customer`` returned (Stripe refuses any other)."""

    async def detach_payment_method(self, method_id: str) -> None: ...

    # Seller payouts (Stripe Connect): sellers' connected accounts and transfers to them.
    async def create_connected_account(
        self, *, reference: str, email: str | None, idempotency_key: str
    ) -> str:
        """Creates a seller's connected account (``reference``: our user); returns its id."""

    async def create_account_link(self, account_id: str, *, refresh_url: str, return_url: str) -> str:
        """The provider-hosted onboarding page's URL for the seller (short-lived)."""

    async def get_balance(self, account_id: str) -> ProviderBalance: ...

    async def create_transfer(
        self, *, amount: int, currency: str, destination: str, transfer_group: str, idempotency_key: str
    ) -> str:
        """Moves ``amount`` from the platform's balance to a connected account; returns its id."""

    async def aclose(self) -> None: ...
