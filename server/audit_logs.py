"""The REST shims' audit entries (``AuditedShims``) and ``POST /audit-logs``, the service API's
audit write (000): a service token (or a platform admin's) in Authorization, a JSON body; a bad
one is 400 problem+json with a ``code``, never a 500."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import fast_json
from core.errors import ErrorCode, Forbidden, ServiceError, Unauthenticated
from core.principal import Principal
from core.scope import TenantScope
from core.scopes import ApiScope, RefusalReason
from models.audit import AuditOutcome
from models.db import Database
from server.problems import problem
from server.runtime import Runtime
from services import audit
from services.identity.credentials import API_KEY_HEADER, principal_of, request_credential

MAX_BODY_BYTES = 16_384
# The REST shims (path pattern, action's path, target type): each call gets one audit entry.
_SHIMS = (
    (re.compile(r"^/oauth/token$"), "/oauth/token", None),
    (re.compile(r"^/audit-logs$"), "/audit-logs", None),
    (re.compile(r"^/api-keys/validate$"), "/api-keys/validate", None),
    (re.compile(r"^/webhooks/(stripe|hyperswitch)$"), None, None),
    (re.compile(r"^/auth/oauth/[A-Za-z0-9_-]+(/callback)?$"), None, None),
    (re.compile(r"^/invoices/(?P<id>[^/]+)/pdf$"), "/invoices/{id}/pdf", "Invoice"),
    (re.compile(r"^/users/me/avatar$"), "/users/me/avatar", None),
)
_ERROR_IN_REDIRECT = re.compile(r"[?&#]error=([A-Za-z0-9_.-]+)")


@dataclass
class _Request:
    """The Caller (services/audit.py) of an entry written outside the shim's own context."""

    db: Database
    client_ip: str
    user_agent: str | None
    correlation_id: str | None
    principal: Principal | None = None

    def transaction(self, scope: TenantScope | None = None) -> Any:
        return self.db.transaction(scope or TenantScope.all_tenants())


def _draft(scope: Scope) -> audit.AuditDraft | None:
    path = scope.get("path", "")
    for pattern, shown, target_type in _SHIMS:
        match = pattern.match(path)
        if match is not None:
            target = match.groupdict().get("id")
            action = f"rest:{scope.get('method', 'GET')} {shown or path}"
            return audit.AuditDraft(action, target_type if target else None, target)
    return None


def _outcome(status: int, location: str | None) -> tuple[AuditOutcome, str | None]:
    if status == 401:
        return AuditOutcome.UNAUTHENTICATED, ErrorCode.UNAUTHENTICATED
    if status == 403:
        return AuditOutcome.FORBIDDEN, ErrorCode.FORBIDDEN
    if status >= 500:
        return (
            AuditOutcome.ERROR,
            ErrorCode.SERVICE_UNAVAILABLE if status == 503 else ErrorCode.INTERNAL_SERVER_ERROR,
        )
    if status >= 400:
        return AuditOutcome.USER_ERROR, str(status)
    # OAuth callbacks answer errors by a redirect carrying ?error=CODE.
    found = _ERROR_IN_REDIRECT.search(location or "") if 300 <= status < 400 else None
    if found is not None:
        return AuditOutcome.USER_ERROR, found.group(1)
    return AuditOutcome.SUCCESS, None


class AuditedShims:
    """Records an audit entry for each REST shim call: SUCCESS in the shim's own transaction when
    it commits one (services/context.py), else, and for every failure, in one of its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        draft = _draft(scope) if scope["type"] == "http" else None
        if draft is None:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        client = scope.get("client")
        draft.client_ip = client[0] if client else "unknown"
        draft.user_agent = headers.get("user-agent")
        draft.correlation_id = scope.get("state", {}).get("correlation_id")
        answered: dict[str, Any] = {"status": 500, "location": None}

        async def tracked(message: Message) -> None:
            if message["type"] == "http.response.start":
                answered["status"] = message["status"]
                answered["location"] = Headers(raw=message.get("headers", [])).get("location")
            await send(message)

        with audit.auditing(draft):
            try:
                await self.app(scope, receive, tracked)
            finally:
                outcome, code = _outcome(answered["status"], answered["location"])
                runtime: Runtime = scope["app"].state.runtime
                caller = _Request(runtime.db, draft.client_ip, draft.user_agent, draft.correlation_id)
                await audit.finish(caller, draft, outcome, error_code=code)


def _refused(status: int, code: str, detail: str, field: str | None = None) -> JSONResponse:
    extra: dict[str, object] = {"code": code}
    if field is not None:
        extra["field"] = field
    return problem(status, code.replace("_", " ").capitalize(), detail, **extra)


def _text(body: dict[str, Any], name: str, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise ValueError(name)
    return value


def _uuid(body: dict[str, Any], name: str, required: bool = False) -> uuid.UUID | None:
    value = _text(body, name, required)
    try:
        return None if value is None else uuid.UUID(value)
    except ValueError as exc:
        raise ValueError(name) from exc


def _appended(body: object) -> audit.AppendedEntry:
    """The entry the body describes; ValueError naming the field at fault."""
    if not isinstance(body, dict):
        raise ValueError("body")
    outcome = _text(body, "outcome") or AuditOutcome.SUCCESS.value
    if outcome not in AuditOutcome.__members__:
        raise ValueError("outcome")
    details = body.get("details") or {}
    if not isinstance(details, dict):
        raise ValueError("details")
    return audit.AppendedEntry(
        tenant_id=_uuid(body, "tenantId", required=True),  # type: ignore[arg-type]
        action=_text(body, "action", required=True) or "",
        target_type=_text(body, "targetType"),
        target_id=_text(body, "targetId"),
        actor_id=_uuid(body, "actorId"),
        outcome=AuditOutcome(outcome),
        details=details,
    )


async def service_caller(request: Request, runtime: Runtime, scope: ApiScope) -> Principal:
    """The service principal (or platform admin) with ``scope`` the request's credential is;
    UNAUTHENTICATED or FORBIDDEN (with ``extensions.reason``) otherwise."""
    credential = request_credential(request.headers.get("authorization"), request.headers.get(API_KEY_HEADER))
    if credential is None:
        raise Unauthenticated("Send a service token: Authorization: Bearer <token from POST /oauth/token>.")
    client_ip = request.client.host if request.client else "unknown"
    principal = await principal_of(
        runtime.access, runtime.settings, runtime.api_keys, credential, None, client_ip
    )
    if not (principal.is_service or principal.is_platform_admin):
        raise Forbidden(
            "Only service principals and platform administrators may do this.",
            reason=RefusalReason.SERVICE_ONLY,
        )
    if not principal.has_scope(scope):
        raise Forbidden(f"This credential lacks the scope {scope}.", reason=RefusalReason.INSUFFICIENT_SCOPE)
    return principal


def refusal(error: ServiceError) -> JSONResponse:
    """The problem+json of a refused credential: 403 for FORBIDDEN, else 401."""
    status = 403 if error.code == ErrorCode.FORBIDDEN else 401
    return _refused(status, error.code, error.message)


async def audit_logs(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    try:
        principal = await service_caller(request, runtime, ApiScope.AUDIT_WRITE)
    except ServiceError as error:
        return refusal(error)
    # Its refused bodies are recorded outside its own context: name it as their actor too.
    audit.identified(principal)
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return _refused(413, ErrorCode.BAD_REQUEST, f"The body is over {MAX_BODY_BYTES} bytes.")
    try:
        new = _appended(fast_json.loads(body))
    except ValueError as error:
        field = str(error.args[0]) if error.args and str(error.args[0]).isidentifier() else None
        return _refused(400, ErrorCode.BAD_USER_INPUT, f"`{field or 'body'}` is missing or not valid.", field)
    problems = audit.appended_problems(new)
    if problems:
        field, message = problems[0]
        return _refused(400, ErrorCode.BAD_USER_INPUT, message, field)
    ctx = runtime.services_for(request, principal=principal)
    try:
        row = await audit.append(ctx, new)
    except ServiceError as error:
        return _refused(
            404 if error.code == ErrorCode.NOT_FOUND else 400, error.code, error.message, "tenantId"
        )
    return JSONResponse({"id": str(row.id), "createdAt": row.created_at.isoformat()}, status_code=201)
