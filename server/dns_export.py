"""GET /dns/zones/{zone_id}/export: a zone as a BIND master file (text/dns, RFC 4027). Authenticated
like GraphQL (Bearer token, X-Tenant-Id for platform admins); another tenant's zone is 404, like a
missing one; RFC 7807 problems otherwise."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from core.errors import ErrorCode, NotFound, ServiceError
from schema.nodes import parse_uuid
from server.credentials import TENANT_HEADER, acting_tenant
from server.errors import STATUS_OF_CODE
from server.problems import problem
from server.runtime import Runtime
from services.dns.zonefile import export_zone
from services.identity.auth import authenticate, bearer_token


def _unauthenticated(detail: str) -> Response:
    response = problem(401, "Unauthorized", detail)
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


async def dns_zone_export(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        return _unauthenticated("Send Authorization: Bearer <access token>.")
    try:
        principal = await authenticate(
            runtime.access, runtime.settings, token, acting_tenant(request.headers.get(TENANT_HEADER))
        )
        zone_id = parse_uuid(request.path_params["zone_id"], "DnsZone")
        zone, text = await export_zone(runtime.services_for(request, principal=principal), zone_id)
    except NotFound:
        return problem(404, "Not Found", "No such zone.")
    except ServiceError as error:
        if error.code == ErrorCode.UNAUTHENTICATED:
            return _unauthenticated(error.message)
        return problem(STATUS_OF_CODE.get(error.code, 400), "Request refused", error.message)
    return Response(
        text,
        media_type="text/dns",
        headers={
            "Content-Disposition": f'attachment; filename="{zone.name}.zone"',
            "Cache-Control": "private, no-store",
        },
    )
