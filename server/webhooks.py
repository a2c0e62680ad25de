"""Inbound payment webhooks (REST shims): verify the signature over the raw body, parse, hand the
event to services/billing/webhooks.py, answer at once. Anything rejected here is answered 400 with an
RFC 7807 problem and leaves no trace in the database."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

import stripe
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.problems import problem
from server.runtime import Runtime
from services.billing.webhooks import (
    InboundEvent,
    MalformedEvent,
    parse_hyperswitch_event,
    parse_stripe_event,
    receive_event,
)

log = logging.getLogger(__name__)

# Stripe signs "t.rawbody"; a signature older than this is refused (replays of old captures).
STRIPE_TOLERANCE_SECONDS = 300
HYPERSWITCH_SIGNATURE_HEADER = "x-hyperswitch-signature"


def _rejected(detail: str) -> Response:
    return problem(400, "Webhook rejected", detail)


async def _accept(runtime: Runtime, body: bytes, parse: Callable[[Any], InboundEvent]) -> Response:
    try:
        event = parse(json.loads(body))
    except (ValueError, MalformedEvent) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return problem(400, "Malformed webhook event", str(exc)[:200])
    receipt = await receive_event(runtime.db, event, runtime.dispatcher.wake)
    body_out: dict[str, Any] = {"received": True, "duplicate": receipt.duplicate}
    if receipt.outcome is not None:
        body_out["outcome"] = receipt.outcome.value
    return JSONResponse(body_out)


async def stripe_webhook(request: Request) -> Response:
    """POST /webhooks/stripe: ``Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">``."""
    runtime: Runtime = request.app.state.runtime
    body = await request.body()
    try:
        stripe.WebhookSignature.verify_header(
            body,
            request.headers.get("stripe-signature"),
            runtime.settings.stripe_webhook_secret,
            tolerance=STRIPE_TOLERANCE_SECONDS,
        )
    except stripe.SignatureVerificationError as exc:
        log.warning("stripe webhook refused: %s", exc)
        return _rejected(f"Stripe-Signature: {str(exc).split('.')[0][:200]}.")
    except UnicodeDecodeError:
        return _rejected("The body is not UTF-8.")
    return await _accept(runtime, body, parse_stripe_event)


def hyperswitch_signature(body: bytes, key: str) -> str:
    return hmac.new(key.encode(), body, hashlib.sha512).hexdigest()


async def hyperswitch_webhook(request: Request) -> Response:
    """POST /webhooks/hyperswitch: ``X-Hyperswitch-Signature: <hex HMAC-SHA512 of the raw body>``."""
    runtime: Runtime = request.app.state.runtime
    body = await request.body()
    given = request.headers.get(HYPERSWITCH_SIGNATURE_HEADER, "").strip().lower()
    expected = hyperswitch_signature(body, runtime.settings.hyperswitch_webhook_key)
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        log.warning("hyperswitch webhook refused: %s signature", "invalid" if given else "missing")
        return _rejected("The X-Hyperswitch-Signature header is missing or does not match the body.")
    return await _accept(runtime, body, parse_hyperswitch_event)
