"""Seed 003's help links and client error reports. Help links: every signed-in user reads their
tenant's (by position); its TENANT_ADMINs (and platform admins) upsert them by key and delete
them. Client error reports: any signed-in caller reports a UI error, kept per tenant, at most
64 KiB of JSON in all and rate-limited per user; MANAGER and TENANT_ADMIN list them."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import delete, select

from core.errors import NotFound, invalid
from core.permissions import CLIENT_ERROR_READERS, HELP_LINK_EDITORS
from core.scope import TenantScope
from loaders.pagination import Page, PageArgs, SortKey, paginate
from models.base import utcnow
from models.platform import ClientErrorReport, HelpLink
from services.context import ServiceContext
from services.platform.errors import PlatformErrorCode
from services.platform.texts import bounded, name

MAX_LINKS = 100
MAX_REPORT_BYTES = 64 * 1024
MAX_EXTRA_BYTES = 16 * 1024
MAX_TITLE = 200
MAX_URL = 2000
MAX_MESSAGE = 2000
MAX_STACK = 20000
MAX_USER_AGENT = 500
NEWEST_FIRST = SortKey(ClientErrorReport.created_at, ClientErrorReport.id, descending=True)


async def help_links(ctx: ServiceContext) -> list[HelpLink]:
    principal = ctx.require_principal()
    async with ctx.read(TenantScope.of(principal.tenant_id)) as session:
        found = await session.scalars(
            select(HelpLink).order_by(HelpLink.position, HelpLink.key).limit(MAX_LINKS)
        )
        return list(found)


@dataclass(frozen=True, slots=True)
class HelpLinkFields:
    key: str
    title: str
    url: str
    position: int = 0


async def upsert_help_link(ctx: ServiceContext, fields: HelpLinkFields) -> HelpLink:
    principal = ctx.require_role(*HELP_LINK_EDITORS)
    key = name("key", fields.key)
    title = bounded("title", fields.title, MAX_TITLE, required=True)
    url = bounded("url", fields.url, MAX_URL, required=True)
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise invalid("url", PlatformErrorCode.INVALID_URL, "A help link is an http(s) URL.")
    async with ctx.transaction(TenantScope.of(principal.tenant_id)) as session:
        link = await session.scalar(select(HelpLink).where(HelpLink.key == key).with_for_update())
        if link is None:
            link = HelpLink(id=uuid.uuid4(), tenant_id=principal.tenant_id, key=key)
            session.add(link)
        link.title, link.url, link.position, link.updated_at = title, url, fields.position, utcnow()
    return link


async def delete_help_link(ctx: ServiceContext, key: str) -> None:
    principal = ctx.require_role(*HELP_LINK_EDITORS)
    async with ctx.transaction(TenantScope.of(principal.tenant_id)) as session:
        deleted = await session.execute(delete(HelpLink).where(HelpLink.key == key.strip().lower()))
        if not deleted.rowcount:  # type: ignore[attr-defined]
            raise NotFound("HelpLink")


@dataclass(frozen=True, slots=True)
class ClientError:
    message: str
    stack: str | None = None
    url: str | None = None
    user_agent: str | None = None
    extra: Any = None


def _size(report: ClientError) -> int:
    parts = [report.message, report.stack or "", report.url or "", report.user_agent or ""]
    return sum(len(part.encode()) for part in parts)


async def report_client_error(ctx: ServiceContext, report: ClientError) -> ClientErrorReport:
    principal = ctx.require_principal()
    extra = report.extra if report.extra is not None else {}
    if not isinstance(extra, dict):
        raise invalid("extra", PlatformErrorCode.TOO_LARGE, "extra is a JSON object.")
    extra_bytes = len(json.dumps(extra, separators=(",", ":")).encode())
    if extra_bytes > MAX_EXTRA_BYTES or _size(report) + extra_bytes > MAX_REPORT_BYTES:
        raise invalid(
            None,
            PlatformErrorCode.TOO_LARGE,
            f"A report takes at most {MAX_REPORT_BYTES} bytes ({MAX_EXTRA_BYTES} of them extra).",
        )
    message = bounded("message", report.message, MAX_MESSAGE, required=True)
    stack = bounded("stack", report.stack, MAX_STACK) or None
    url = bounded("url", report.url, MAX_URL) or None
    user_agent = bounded("userAgent", report.user_agent or ctx.user_agent, MAX_USER_AGENT) or None
    await ctx.rate_limiter.check(
        "client-error-report",
        {"user": (str(principal.user_id), ctx.settings.client_error_reports_per_window)},
    )
    found = ClientErrorReport(
        id=uuid.uuid4(),
        tenant_id=principal.tenant_id,
        user_id=principal.person_id,
        message=message,
        stack=stack,
        url=url,
        user_agent=user_agent,
        extra=extra,
        created_at=utcnow(),
    )
    async with ctx.transaction(TenantScope.of(principal.tenant_id)) as session:
        session.add(found)
    return found


async def list_client_errors(ctx: ServiceContext, page: PageArgs) -> Page[ClientErrorReport]:
    ctx.require_role(*CLIENT_ERROR_READERS)
    return await paginate(ctx.read, select(ClientErrorReport), NEWEST_FIRST, page)
