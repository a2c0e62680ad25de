"""GET /payments/callback/{provider}?Authority=...&Status=OK|NOK: where a redirect-style gateway
sends the payer back (services/billing/gateway_payments.py verifies and settles the payment).

The request carries no token: the payment, and so the tenant, is found by the authority alone.
The payer's browser is then sent on (303) to the frontend's return page with the outcome:
``?status=paid|failed|cancelled|pending&payment=<payment global id>``, or ``?status=unknown`` for
an authority we never issued. A provider that is not configured, or a callback without an
Authority, is answered with an RFC 7807 problem."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.problems import problem
from server.runtime import Runtime
from services.billing.gateway_payments import handle_callback
from services.billing.gateways import gateway_for, return_url

MAX_AUTHORITY_LENGTH = 255


def _payment_global_id(payment_id: str) -> str:
    return base64.b64encode(f"Payment:{payment_id}".encode()).decode()


async def payment_callback(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    provider = request.path_params["provider"]
    gateway = gateway_for(runtime.settings, provider)
    if gateway is None:
        return problem(404, "Unknown payment gateway", f"No gateway {provider[:40]!r} is configured.")
    authority = request.query_params.get("Authority", "").strip()
    if not authority or len(authority) > MAX_AUTHORITY_LENGTH:
        return problem(400, "Malformed gateway callback", "The Authority query parameter is missing.")
    status_ok = request.query_params.get("Status", "").strip().upper() == "OK"
    result = await handle_callback(runtime.db, gateway, authority, status_ok, runtime.dispatcher.wake)
    query = {"status": result.outcome.value}
    if result.payment_id is not None:
        query["payment"] = _payment_global_id(str(result.payment_id))
    target = return_url(runtime.settings)
    separator = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{separator}{urlencode(query)}", status_code=303)
