"""Browser origins a tenant's web apps call the API from (Tenant.allowedOrigins): their rules, and
the per-process set that CORS consults (server/cors.py).

An origin is ``scheme://host[:port]`` as a browser sends it in its Origin header: https, or http
for a loopback host only (local development); no path, query, user or wildcard; stored lower case
without the scheme's default port, which browsers leave out too."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from core.errors import FieldProblem
from core.scope import TenantScope
from models.db import Database
from models.identity.accounts import Tenant, TenantStatus
from models.identity.tenant_profile import TenantOrigin
from services.identity.domains import normalised_hostname
from services.identity.errors import IdentityErrorCode

log = logging.getLogger(__name__)

MAX_ORIGIN_LENGTH = 300
MAX_ORIGINS_PER_TENANT = 20
DEFAULT_PORTS = {"https": 443, "http": 80}
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
ALL_TENANTS = TenantScope.all_tenants()


def normalised_origin(raw: str) -> str | None:
    """The origin in its stored form, or None when ``raw`` is none (see the module's rules)."""
    text = raw.strip()
    if not text or len(text) > MAX_ORIGIN_LENGTH or not text.isascii():
        return None
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:  # a port that is no number or out of range
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        return None
    if parts.path not in ("", "/") or scheme not in DEFAULT_PORTS or "@" in parts.netloc:
        return None
    shown = f"[{host}]" if ":" in host else host
    if shown not in LOOPBACK_HOSTS and (scheme != "https" or normalised_hostname(host) != host):
        return None  # plain http off the loopback host, or no hostname (IP, wildcard, reserved)
    suffix = "" if port is None or port == DEFAULT_PORTS[scheme] else f":{port}"
    return f"{scheme}://{shown}{suffix}"


def origins_problem(field: str, raw: list[str]) -> FieldProblem | None:
    if len(raw) > MAX_ORIGINS_PER_TENANT:
        return FieldProblem(
            ("input", field),
            IdentityErrorCode.TOO_MANY_ORIGINS,
            f"A tenant may list at most {MAX_ORIGINS_PER_TENANT} origins.",
        )
    for index, origin in enumerate(raw):
        where = ("input", field, str(index))
        if len(origin.strip()) > MAX_ORIGIN_LENGTH:
            return FieldProblem(where, IdentityErrorCode.TOO_LONG, f"At most {MAX_ORIGIN_LENGTH} characters.")
        if normalised_origin(origin) is None:
            return FieldProblem(
                where,
                IdentityErrorCode.INVALID_ORIGIN,
                "Enter an origin such as https://app.example.com or https://app.example.com:8443 "
                "(https; http only for localhost; no path).",
            )
    return None


def normalised_origins(raw: list[str]) -> list[str]:
    """Origins checked with ``origins_problem``, stored form, duplicates dropped, in given order."""
    return list(dict.fromkeys(origin for origin in map(normalised_origin, raw) if origin))


class TenantOrigins:
    """The origins listed by tenants in service (active or on trial, not deleted), kept as one set
    per process and read again once older than ``refresh_seconds``. A failed read keeps the last
    set: CORS does not fail requests while the database is away."""

    def __init__(self, db: Database, refresh_seconds: float) -> None:
        self._db = db
        self._refresh_seconds = refresh_seconds
        self._origins: frozenset[str] = frozenset()
        self._read_at = -math.inf
        self._lock = asyncio.Lock()

    def _stale(self) -> bool:
        return time.monotonic() - self._read_at >= self._refresh_seconds

    async def _read(self) -> frozenset[str]:
        statement = (
            select(TenantOrigin.origin)
            .join(Tenant, Tenant.id == TenantOrigin.tenant_id)
            .where(Tenant.status.in_((TenantStatus.ACTIVE, TenantStatus.TRIAL)), Tenant.deleted_at.is_(None))
            .distinct()
        )
        async with self._db.session(ALL_TENANTS) as session:
            return frozenset(await session.scalars(statement))

    def known(self) -> frozenset[str]:
        """The set as last read (``current`` reads it again when stale)."""
        return self._origins

    async def current(self) -> frozenset[str]:
        if self._stale():
            async with self._lock:
                if self._stale():  # another request may have read it meanwhile
                    try:
                        self._origins = await self._read()
                    except (SQLAlchemyError, OSError) as exc:
                        log.warning("reading the tenants' allowed origins failed: %s", exc)
                    self._read_at = time.monotonic()
        return self._origins
