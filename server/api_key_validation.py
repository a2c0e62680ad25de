"""``POST /api-keys/validate`` (002): an external gateway asks whether an API key is valid.

The caller is a service principal (or a platform admin) whose token has the scope
``api_keys:validate``. The JSON body names the key by ``key_prefix`` and ``key_hash`` (the
SHA-256 hex of the secret), optionally the ``ip_address`` of the gateway's client; the answer
is 200 ``{valid, reason, key_id, tenant_id, user_id, scopes, rate_limit_rpm}``, ``valid: false``
with a ``reason`` for a key that would be refused here. A bad body is 400 problem+json with a
``code`` and ``field``; a refused caller 401/403. Each call is audited (server/audit_logs.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core import fast_json
from core.errors import ErrorCode, ServiceError
from core.scopes import ApiScope
from server.audit_logs import MAX_BODY_BYTES, refusal, service_caller
from server.problems import problem
from server.runtime import Runtime
from services import audit
from services.identity.key_validation import KeyAnswer, KeyQuestion, question_problem, validate_key


def _bad_body(field: str, detail: str) -> JSONResponse:
    return problem(400, "Bad user input", detail, code=ErrorCode.BAD_USER_INPUT, field=field)


def _question(body: object) -> KeyQuestion | tuple[str, str]:
    """The question the body asks, or (field, message) of what is wrong with it."""
    if not isinstance(body, dict):
        return "body", "The body must be a JSON object."
    texts = {}
    for name in ("key_prefix", "key_hash", "ip_address"):
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            return name, f"`{name}` must be a string."
        texts[name] = value
    if texts["key_prefix"] is None or texts["key_hash"] is None:
        missing = "key_prefix" if texts["key_prefix"] is None else "key_hash"
        return missing, f"`{missing}` is required."
    question = KeyQuestion(texts["key_prefix"], texts["key_hash"], texts["ip_address"])
    return question_problem(question) or question


def _answer(answer: KeyAnswer) -> dict[str, object]:
    def text(value: object) -> str | None:
        return None if value is None else str(value)

    return {
        "valid": answer.valid,
        "reason": text(answer.reason),
        "key_id": text(answer.key_id),
        "tenant_id": text(answer.tenant_id),
        "user_id": text(answer.user_id),
        "scopes": list(answer.scopes),
        "rate_limit_rpm": answer.rate_limit_rpm,
    }


async def validate_api_key(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    try:
        audit.identified(await service_caller(request, runtime, ApiScope.API_KEYS_VALIDATE))
    except ServiceError as error:
        return refusal(error)
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return problem(
            413, "Bad request", f"The body is over {MAX_BODY_BYTES} bytes.", code=ErrorCode.BAD_REQUEST
        )
    try:
        parsed = fast_json.loads(body)
    except ValueError:
        return _bad_body("body", "The body is not JSON.")
    question = _question(parsed)
    if isinstance(question, tuple):
        return _bad_body(*question)
    answer = await validate_key(runtime.db, question)
    if answer.valid and answer.key_id is not None:
        runtime.api_keys.usage.record(answer.key_id)
    audit.annotate(
        valid=answer.valid, reason=answer.reason, keyId=str(answer.key_id) if answer.key_id else None
    )
    return JSONResponse(_answer(answer))
