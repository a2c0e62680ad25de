"""CORS: the origins of the settings (``allowed_origins``: the platform's own apps, with
credentials, so the refresh cookie travels) and the origins tenants list (Tenant.allowedOrigins,
services/identity/origins.py: without credentials, the token goes in Authorization). A tenant's
admin can list any origin, so a listed one must not get the browser's cookies of other tenants'
users."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from core.settings import Settings
from services.identity.origins import TenantOrigins

COMMON: dict[str, Any] = {
    "allow_methods": ["GET", "POST", "OPTIONS"],
    "allow_headers": ["Authorization", "Content-Type", "X-Correlation-Id", "X-Tenant-Id", "X-API-Key"],
    "expose_headers": ["X-Correlation-Id"],
}


class _Listed(CORSMiddleware):
    """Answers for an origin already found in a tenant's list."""

    def is_allowed_origin(self, origin: str) -> bool:
        return True


class TenantCors:
    def __init__(self, app: ASGIApp, *, settings: Settings, origins: TenantOrigins) -> None:
        self._app = app
        self._platform = CORSMiddleware(
            app, allow_origins=settings.allowed_origins, allow_credentials=True, **COMMON
        )
        self._listed = _Listed(app, allow_origins=[], allow_credentials=False, **COMMON)
        self._origins = origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        origin = Headers(scope=scope).get("origin")
        listed = origin is not None and not self._platform.is_allowed_origin(origin)
        if listed and origin in await self._origins.current():
            await self._listed(scope, receive, send)
            return
        # The platform's origins, requests without an Origin, and refusals of unknown origins.
        await self._platform(scope, receive, send)
