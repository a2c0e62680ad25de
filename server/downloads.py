"""Binary downloads (REST shims): the invoice PDF. Authenticated like GraphQL (Bearer token,
X-Tenant-Id for platform admins); answers RFC 7807 problems otherwise."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from core.errors import NotFound, ServiceError
from schema.nodes import parse_uuid
from server.credentials import TENANT_HEADER, acting_tenant
from server.errors import STATUS_OF_CODE
from server.problems import problem
from server.runtime import Runtime
from services.billing.invoice_pdf import invoice_pdf
from services.identity.auth import authenticate, bearer_token


def _unauthenticated(detail: str) -> Response:
    response = problem(401, "Unauthorized", detail)
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


async def invoice_pdf_download(request: Request) -> Response:
    """GET /invoices/{id}/pdf (a UUID or an Invoice global id): the owner's or staff's PDF."""
    runtime: Runtime = request.app.state.runtime
    try:
        token = bearer_token(request.headers.get("authorization"))
        if token is None:
            return _unauthenticated("Send Authorization: Bearer <access token>.")
        principal = await authenticate(
            runtime.access, runtime.settings, token, acting_tenant(request.headers.get(TENANT_HEADER))
        )
    except ServiceError as error:
        if error.code == "UNAUTHENTICATED":
            return _unauthenticated(error.message)
        return problem(STATUS_OF_CODE.get(error.code, 400), "Request refused", error.message)
    not_found = problem(404, "Not Found", "No such invoice.")
    try:
        invoice_id = parse_uuid(request.path_params["invoice_id"], "Invoice")
    except NotFound:
        return not_found
    found = await invoice_pdf(runtime.db, principal, invoice_id)
    if found is None:
        return not_found
    filename, pdf = found
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )
