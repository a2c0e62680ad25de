"""Avatars over REST: POST /users/me/avatar uploads a custom image (the raw bytes as the body,
authenticated like GraphQL; JSON answer), GET /avatars/library/{id}.svg and
GET /avatars/{tenant_id}/{avatar_id} serve the pictures. RFC 7807 problems otherwise."""

from __future__ import annotations

import enum
import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core.errors import Forbidden, InvalidInput, ServiceError
from server.credentials import TENANT_HEADER, acting_tenant
from server.errors import STATUS_OF_CODE
from server.problems import problem
from server.runtime import Runtime
from services.identity import avatars
from services.identity.auth import authenticate, bearer_token
from services.identity.errors import IdentityErrorCode

# Uploads are checked by their bytes; these statuses tell a client what was wrong.
_STATUS_OF_PROBLEM: dict[enum.StrEnum, int] = {
    IdentityErrorCode.AVATAR_TOO_LARGE: 413,
    IdentityErrorCode.UNSUPPORTED_IMAGE: 415,
}
_CACHED = {"Cache-Control": "public, max-age=86400, immutable", "X-Content-Type-Options": "nosniff"}


def _id(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


async def avatar_upload(request: Request) -> Response:
    """POST /users/me/avatar: the body (a PNG, JPEG, GIF or WebP image) becomes the caller's avatar."""
    runtime: Runtime = request.app.state.runtime
    try:
        token = bearer_token(request.headers.get("authorization"))
        if token is None:
            response = problem(401, "Unauthorized", "Send Authorization: Bearer <access token>.")
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        principal = await authenticate(
            runtime.access, runtime.settings, token, acting_tenant(request.headers.get(TENANT_HEADER))
        )
        if principal.password_change_required:
            # As on GraphQL (schema/directives.py): such a session changes its password first.
            raise Forbidden(
                "Change your password first (changePassword); nothing else is allowed until then."
            )
        ctx = runtime.services_for(request, principal=principal)
        user = await avatars.upload_avatar(ctx, await request.body())
    except InvalidInput as error:
        first = error.problems[0]
        status = _STATUS_OF_PROBLEM.get(first.code, 400)
        return problem(status, "Avatar refused", first.message, code=str(first.code))
    except ServiceError as error:
        status = STATUS_OF_CODE.get(error.code, 400)
        return problem(status, "Request refused", error.message, code=error.code)
    path = avatars.avatar_path(user) or ""
    return JSONResponse({"avatarUrl": avatars.absolute(runtime.settings, path)})


async def library_avatar(request: Request) -> Response:
    """GET /avatars/library/{id}.svg: a picture of the library."""
    avatar_id = _id(request.path_params["avatar_id"])
    svg = avatars.library_svg(avatar_id) if avatar_id is not None else None
    if svg is None:
        return problem(404, "Not Found", "No such avatar.", code="NOT_FOUND")
    return Response(svg, media_type="image/svg+xml", headers=_CACHED)


async def uploaded_avatar(request: Request) -> Response:
    """GET /avatars/{tenant_id}/{avatar_id}: an uploaded image, by its unguessable path."""
    runtime: Runtime = request.app.state.runtime
    tenant_id, avatar_id = _id(request.path_params["tenant_id"]), _id(request.path_params["avatar_id"])
    found = None
    if tenant_id is not None and avatar_id is not None:
        found = await avatars.uploaded_avatar(runtime.db, tenant_id, avatar_id)
    if found is None:
        return problem(404, "Not Found", "No such avatar.", code="NOT_FOUND")
    return Response(found.data, media_type=found.content_type, headers=_CACHED)
