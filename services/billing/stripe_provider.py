"""``StripeHttpProvider``: the PaymentProvider adapter speaking Stripe's REST API (form-encoded
requests, bearer secret key, ``Idempotency-Key`` on every POST) to a configurable base URL: Stripe
itself, a Stripe-compatible processor (Hyperswitch offers such an API) or, in the tests,
tests/support/fake_stripe.py."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from services.billing.provider import (
    ProviderBalance,
    ProviderCard,
    ProviderDispute,
    ProviderError,
    ProviderIntent,
    ProviderRefund,
)


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
        return await self._call("POST", path, data=dict(form_fields(params)), headers=headers)

    async def _call(self, method: str, path: str, **request: Any) -> dict[str, Any]:
        try:
            response = await self._client.request(method, path, **request)
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

    async def create_customer(self, *, reference: str, email: str | None, idempotency_key: str) -> str:
        body = await self._post(
            "/v1/customers", {"email": email, "metadata": {"tenantgraph_user": reference}}, idempotency_key
        )
        return str(body["id"])

    async def create_payment_method(self, *, card_token: str, idempotency_key: str) -> ProviderCard:
        body = await self._post(
            "/v1/payment_methods", {"type": "card", "card": {"token": card_token}}, idempotency_key
        )
        return _card(body)

    async def submit_dispute_evidence(
        self, dispute_id: str, *, evidence: Mapping[str, str], idempotency_key: str
    ) -> ProviderDispute:
        body = await self._post(
            f"/v1/disputes/{dispute_id}", {"evidence": dict(evidence), "submit": True}, idempotency_key
        )
        return ProviderDispute(id=body["id"], status=body["status"])

    async def attach_payment_method(self, method_id: str, *, customer: str) -> ProviderCard:
        return _card(await self._post(f"/v1/payment_methods/{method_id}/attach", {"customer": customer}))

    async def detach_payment_method(self, method_id: str) -> None:
        await self._post(f"/v1/payment_methods/{method_id}/detach", {})

    async def create_connected_account(
        self, *, reference: str, email: str | None, idempotency_key: str
    ) -> str:
        body = await self._post(
            "/v1/accounts",
            {
                "type": "express",
                "email": email,
                "capabilities": {"transfers": {"requested": True}},
                "metadata": {"tenantgraph_user": reference},
            },
            idempotency_key,
        )
        return str(body["id"])

    async def create_account_link(self, account_id: str, *, refresh_url: str, return_url: str) -> str:
        body = await self._post(
            "/v1/account_links",
            {
                "account": account_id,
                "refresh_url": refresh_url,
                "return_url": return_url,
                "type": "account_onboarding",
            },
        )
        return str(body["url"])

    async def get_balance(self, account_id: str) -> ProviderBalance:
        # The connected account's balance: the platform's key, acting as that account.
        body = await self._call("GET", "/v1/balance", headers={"Stripe-Account": account_id})

        def by_currency(entries: Any) -> dict[str, int]:
            totals: dict[str, int] = {}
            for entry in entries or []:
                currency = str(entry["currency"]).upper()
                totals[currency] = totals.get(currency, 0) + int(entry["amount"])
            return totals

        return ProviderBalance(
            available=by_currency(body.get("available")), pending=by_currency(body.get("pending"))
        )

    async def create_transfer(
        self, *, amount: int, currency: str, destination: str, transfer_group: str, idempotency_key: str
    ) -> str:
        body = await self._post(
            "/v1/transfers",
            {
                "amount": amount,
                "currency": currency.lower(),
                "destination": destination,
                "transfer_group": transfer_group,
            },
            idempotency_key,
        )
        return str(body["id"])

    async def aclose(self) -> None:
        await self._client.aclose()
