"""Redirect-style payment gateways: "send the payer to the gateway's page, the gateway sends them
back to our callback with an authority, we verify server to server".

``RedirectGateway`` is the adapter interface; ``ZarinPalGateway`` speaks ZarinPal's v4 API
(POST /pg/v4/payment/request.json -> data.authority with code 100, the payer goes to
/pg/StartPay/{authority}; POST /pg/v4/payment/verify.json -> data.code 100, or 101 when it was
verified before, with ref_id and card_pan). ``gateway_registry`` gives the gateways the settings
configure, by provider name: none unless a gateway's URL and merchant id are set."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from core.settings import Settings

# ZarinPal's answer codes: the request accepted / the payment verified, and verified before.
ZARINPAL_OK = 100
ZARINPAL_ALREADY_VERIFIED = 101


class GatewayName(enum.StrEnum):
    ZARINPAL = "zarinpal"


class GatewayError(Exception):
    """The gateway refused a request (``code``: its error code), or could not be reached."""

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True, slots=True)
class GatewayRequest:
    """A payment the gateway opened: its authority, and the page to send the payer to."""

    authority: str
    redirect_url: str


@dataclass(frozen=True, slots=True)
class GatewayVerification:
    """The gateway's verdict on an authority for an amount. ``verified`` only when it took the
    money for exactly that amount (``already_verified``: it said so before)."""

    verified: bool
    code: int | None
    message: str
    ref_id: str | None = None
    card_pan: str | None = None
    already_verified: bool = False
    amount: int | None = None


class RedirectGateway(Protocol):
    name: str
    currencies: frozenset[str]

    async def request_payment(
        self,
        *,
        amount: int,
        currency: str,
        description: str,
        callback_url: str,
        metadata: Mapping[str, str],
    ) -> GatewayRequest: ...

    async def verify_payment(self, *, authority: str, amount: int) -> GatewayVerification: ...


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _errors(body: Mapping[str, Any]) -> tuple[int | None, str]:
    errors = body.get("errors")
    if isinstance(errors, Mapping) and errors:
        return _int(errors.get("code")), str(errors.get("message") or "refused")
    return None, "refused"


class ZarinPalGateway:
    """ZarinPal's v4 payment gateway (amounts in the currency's minor unit: Rial for IRR)."""

    name = GatewayName.ZARINPAL.value
    currencies = frozenset({"IRR", "IRT"})

    def __init__(self, base_url: str, merchant_id: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.merchant_id = merchant_id
        self.timeout = timeout

    async def _post(self, path: str, body: Mapping[str, Any]) -> Mapping[str, Any]:
        try:
            async with httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout) as client:
                response = await client.post(path, json=dict(body), headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise GatewayError(f"The gateway is unreachable: {exc}") from exc
        try:
            answer = response.json()
        except ValueError as exc:
            raise GatewayError(f"The gateway answered {response.status_code} without JSON") from exc
        if not isinstance(answer, Mapping):
            raise GatewayError(f"The gateway answered {response.status_code} with no object")
        if response.status_code >= 500:
            raise GatewayError(f"The gateway answered {response.status_code}")
        return answer

    async def request_payment(
        self,
        *,
        amount: int,
        currency: str,
        description: str,
        callback_url: str,
        metadata: Mapping[str, str],
    ) -> GatewayRequest:
        body = await self._post(
            "/pg/v4/payment/request.json",
            {
                "merchant_id": self.merchant_id,
                "amount": amount,
                "currency": currency,
                "callback_url": callback_url,
                "description": description,
                "metadata": dict(metadata),
            },
        )
        data = body.get("data")
        if isinstance(data, Mapping) and _int(data.get("code")) == ZARINPAL_OK and data.get("authority"):
            authority = str(data["authority"])
            return GatewayRequest(authority, f"{self.base_url}/pg/StartPay/{authority}")
        code, message = _errors(body)
        raise GatewayError(f"ZarinPal refused the payment request ({code}): {message}", code=code)

    async def verify_payment(self, *, authority: str, amount: int) -> GatewayVerification:
        body = await self._post(
            "/pg/v4/payment/verify.json",
            {"merchant_id": self.merchant_id, "amount": amount, "authority": authority},
        )
        data = body.get("data")
        code = _int(data.get("code")) if isinstance(data, Mapping) else None
        if isinstance(data, Mapping) and code in (ZARINPAL_OK, ZARINPAL_ALREADY_VERIFIED):
            reported = _int(data.get("amount"))
            if reported is not None and reported != amount:
                return GatewayVerification(False, code, f"verified for {reported}, not {amount}")
            return GatewayVerification(
                verified=True,
                code=code,
                message=str(data.get("message") or "Verified"),
                ref_id=str(data["ref_id"]) if data.get("ref_id") is not None else None,
                card_pan=str(data["card_pan"])[:32] if data.get("card_pan") else None,
                already_verified=code == ZARINPAL_ALREADY_VERIFIED,
                amount=reported,
            )
        error_code, message = _errors(body)
        return GatewayVerification(False, error_code if error_code is not None else code, message)


def gateway_registry(settings: Settings) -> dict[str, RedirectGateway]:
    """The gateways these settings configure, by provider name."""
    gateways: dict[str, RedirectGateway] = {}
    if settings.zarinpal_url and settings.zarinpal_merchant_id:
        gateways[GatewayName.ZARINPAL.value] = ZarinPalGateway(
            settings.zarinpal_url, settings.zarinpal_merchant_id, settings.gateway_timeout_seconds
        )
    return gateways


def gateway_for(settings: Settings, name: str) -> RedirectGateway | None:
    return gateway_registry(settings).get(name)


def return_url(settings: Settings) -> str:
    """Where the payer's browser goes after the callback (the outcome is added to its query)."""
    return settings.gateway_return_url or f"{settings.frontend_url.rstrip('/')}/payments/result"
