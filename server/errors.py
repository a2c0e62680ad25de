"""Every error the HTTP surface answers is JSON: a GraphQL error body on /graphql (its code one of
core/errors.py:ErrorCode), an RFC 7807 problem (application/problem+json) everywhere else; unknown
paths, wrong methods, outages and bugs included."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core.errors import ErrorCode
from server.problems import problem

GRAPHQL_PATH = "/graphql"

_CODE_OF_STATUS = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.UNAUTHENTICATED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.BAD_REQUEST,
    413: ErrorCode.BAD_REQUEST,
    503: ErrorCode.SERVICE_UNAVAILABLE,
}
STATUS_OF_CODE = {
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
}


def code_of_status(status: int) -> ErrorCode:
    return _CODE_OF_STATUS.get(status, ErrorCode.INTERNAL_SERVER_ERROR)


def graphql_error(
    status: int,
    message: str,
    headers: Mapping[str, str] | None = None,
    code: str | None = None,
    extensions: Mapping[str, object] | None = None,
) -> JSONResponse:
    """A GraphQL request refused before it ran: no ``data`` (GraphQL over HTTP), one error, its
    code that of the status unless given."""
    error = {"message": message, "extensions": {"code": code or code_of_status(status), **(extensions or {})}}
    return JSONResponse({"errors": [error]}, status_code=status, headers=headers)


def error_response(
    path: str,
    status: int,
    detail: str,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, object] | None = None,
) -> Response:
    """The error as its endpoint speaks: a GraphQL body on /graphql, a problem elsewhere (with
    ``extensions`` as extra members)."""
    if path == GRAPHQL_PATH:
        return graphql_error(status, detail, headers, extensions=extensions)
    response = problem(status, HTTPStatus(status).phrase, detail, **(extensions or {}))
    response.headers.update(headers or {})
    return response


def _detail(request: Request, error: HTTPException) -> str:
    if error.status_code == 404:
        return f"Nothing is served at {request.url.path}."
    if error.status_code == 405:
        allowed = (error.headers or {}).get("Allow", "")
        return f"{request.method} is not allowed here; use {allowed or 'another method'}."
    return error.detail


async def http_error(request: Request, error: Exception) -> Response:
    """Starlette's own refusals (no route, wrong method), which it would answer in plain text."""
    if not isinstance(error, HTTPException):
        return await internal_error(request, error)
    return error_response(request.url.path, error.status_code, _detail(request, error), error.headers)


async def internal_error(request: Request, error: Exception) -> Response:
    """A bug that escaped a route: a JSON 500 (Starlette still logs the traceback)."""
    return error_response(request.url.path, 500, "Internal server error.")


EXCEPTION_HANDLERS = {HTTPException: http_error, Exception: internal_error}
