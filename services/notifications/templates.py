"""Mail templates of notifications, per type and tenant, with the tenant's branding.

Templates are Jinja2 rendered in a ``SandboxedEnvironment`` (no attribute starting with an
underscore, no unsafe callables: ``{{ ''.__class__.__mro__ }}`` is a SecurityError), undefined
names are errors (StrictUndefined), the HTML body is autoescaped. A template is at most
MAX_TEMPLATE_CHARS; rendering stops past MAX_OUTPUT_CHARS or MAX_RENDER_SECONDS (checked between
the chunks the template yields). Every failure is a userError of its field."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import InvalidInput, invalid
from core.permissions import NOTIFICATION_TEMPLATE_EDITORS
from models.base import utcnow
from models.db import insert_unless_present
from models.identity.accounts import Tenant, User
from models.identity.tenant_profile import TenantBranding
from models.notifications import NotificationTemplate, NotificationType
from services.context import ServiceContext
from services.mail_queue import queue_mail
from services.notifications.errors import NotificationErrorCode

E = NotificationErrorCode
MAX_TEMPLATE_CHARS = 20_000
MAX_OUTPUT_CHARS = 100_000
MAX_RENDER_SECONDS = 1.0
_TEXT = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
_HTML = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)

DEFAULT_SUBJECT = "{{ title }}"
DEFAULT_TEXT = "{{ body }}{% if link %}\n\n{{ link }}{% endif %}\n\n-- {{ tenant.name }}\n"
DEFAULT_HTML = (
    '<div style="font-family: sans-serif">'
    '{% if tenant.logo_url %}<img src="{{ tenant.logo_url }}" alt="{{ tenant.name }}" height="32">{% endif %}'
    '<h1 style="color: {{ tenant.color }}">{{ title }}</h1><p>{{ body }}</p>'
    '{% if link %}<p><a href="{{ link }}">Open</a></p>{% endif %}'
    "<p>{{ tenant.name }}</p></div>"
)
DEFAULT_COLOR = "#1f6feb"


@dataclass(frozen=True, slots=True)
class Template:
    type: NotificationType
    subject: str
    body_text: str
    body_html: str | None
    default: bool


def default_template(kind: NotificationType) -> Template:
    return Template(kind, DEFAULT_SUBJECT, DEFAULT_TEXT, DEFAULT_HTML, True)


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str | None


def _bounded(chunks: Iterator[str], field: str) -> str:
    out: list[str] = []
    size, deadline = 0, time.monotonic() + MAX_RENDER_SECONDS
    for chunk in chunks:
        size += len(chunk)
        out.append(chunk)
        if size > MAX_OUTPUT_CHARS:
            raise invalid(field, E.TEMPLATE_TOO_LARGE, f"The result is over {MAX_OUTPUT_CHARS} characters.")
        if time.monotonic() > deadline:
            raise invalid(field, E.TEMPLATE_TOO_LARGE, f"Rendering took over {MAX_RENDER_SECONDS} s.")
    return "".join(out)


def _render(env: SandboxedEnvironment, field: str, source: str, context: Mapping[str, Any]) -> str:
    if len(source) > MAX_TEMPLATE_CHARS:
        raise invalid(field, E.TOO_LONG, f"A template is at most {MAX_TEMPLATE_CHARS} characters.")
    try:
        return _bounded(env.from_string(source).generate(**context), field)
    except TemplateSyntaxError as error:
        raise invalid(field, E.TEMPLATE_SYNTAX, f"Line {error.lineno}: {error.message}") from error
    except UndefinedError as error:
        raise invalid(field, E.TEMPLATE_UNDEFINED, str(error.message)) from error
    except SecurityError as error:
        raise invalid(
            field, E.TEMPLATE_FORBIDDEN, "The template reaches for something it may not."
        ) from error
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError) as error:
        raise invalid(field, E.TEMPLATE_SYNTAX, f"The template failed: {error}") from error


def render(template: Template, context: Mapping[str, Any]) -> Rendered:
    """The template rendered; InvalidInput naming subject, bodyText or bodyHtml when it fails."""
    subject = _render(_TEXT, "subject", template.subject, context).strip()[:500]
    text = _render(_TEXT, "bodyText", template.body_text, context)
    html = _render(_HTML, "bodyHtml", template.body_html, context) if template.body_html else None
    return Rendered(subject, text, html)


async def branding_of(session: AsyncSession, tenant_id: uuid.UUID) -> dict[str, Any]:
    """The tenant as templates see it: name, logo_url, color (its branding, else defaults)."""
    row = (
        await session.execute(
            select(
                Tenant.name,
                TenantBranding.display_name,
                TenantBranding.logo_url,
                TenantBranding.primary_color,
            )
            .outerjoin(TenantBranding, TenantBranding.tenant_id == Tenant.id)
            .where(Tenant.id == tenant_id)
        )
    ).first()
    if row is None:
        return {"name": "", "logo_url": None, "color": DEFAULT_COLOR}
    name, display, logo, color = row
    return {"name": display or name, "logo_url": logo, "color": color or DEFAULT_COLOR}


async def templates_of(session: AsyncSession, tenant_id: uuid.UUID) -> dict[NotificationType, Template]:
    """Every type's template for the tenant: its own where it has one, else the default."""
    found = {
        row.type: row
        for row in await session.scalars(
            select(NotificationTemplate).where(NotificationTemplate.tenant_id == tenant_id)
        )
    }
    result = {}
    for kind in NotificationType:
        row = found.get(kind.value)
        result[kind] = (
            Template(kind, row.subject, row.body_text, row.body_html, False)
            if row
            else default_template(kind)
        )
    return result


def context_for(
    tenant: Mapping[str, Any], user_name: str, email: str, title: str, body: str, link: str | None, data: Any
) -> dict[str, Any]:
    return {
        "title": title,
        "body": body,
        "link": link,
        "data": data,
        "user": {"name": user_name, "email": email},
        "tenant": dict(tenant),
    }


def mail_of(template: Template, context: Mapping[str, Any]) -> Rendered:
    """The mail of a notification; a template that fails now (its data) falls back to the default."""
    try:
        return render(template, context)
    except InvalidInput:
        return render(default_template(template.type), context)


def sample_context(tenant: Mapping[str, Any], user: User | None) -> dict[str, Any]:
    return context_for(
        tenant,
        user.full_name if user else "Sam Sample",
        (user.email or "") if user else "sam@example.com",
        "Ticket #42 was assigned to you",
        "The printer is on fire",
        "/tickets/42",
        {"number": 42},
    )


# ---- reading and editing (TENANT_ADMIN) ---------------------------------------------------------


def _editor(ctx: ServiceContext) -> uuid.UUID:
    return ctx.require_role(*NOTIFICATION_TEMPLATE_EDITORS).tenant_id


async def list_templates(ctx: ServiceContext) -> list[Template]:
    tenant_id = _editor(ctx)
    async with ctx.read() as session:
        return list((await templates_of(session, tenant_id)).values())


async def update_template(ctx: ServiceContext, template: Template) -> Template:
    """Stores the tenant's template of its type once it renders with sample data."""
    tenant_id = _editor(ctx)
    async with ctx.transaction() as session:
        render(template, sample_context(await branding_of(session, tenant_id), None))
        values = {
            "subject": template.subject,
            "body_text": template.body_text,
            "body_html": template.body_html,
        }
        await insert_unless_present(
            session,
            NotificationTemplate,
            [NotificationTemplate.tenant_id, NotificationTemplate.type],
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            type=template.type.value,
            updated_at=utcnow(),
            **values,
        )
        row = await session.scalar(
            select(NotificationTemplate)
            .where(
                NotificationTemplate.tenant_id == tenant_id, NotificationTemplate.type == template.type.value
            )
            .with_for_update()
        )
        if row is not None:
            row.subject, row.body_text = template.subject, template.body_text
            row.body_html, row.updated_at = template.body_html, utcnow()
    return Template(template.type, template.subject, template.body_text, template.body_html, False)


async def preview(ctx: ServiceContext, template: Template | None, kind: NotificationType) -> Rendered:
    """``template`` (or the tenant's of ``kind``) rendered with sample data and the caller's name."""
    tenant_id = _editor(ctx)
    principal = ctx.require_principal()
    async with ctx.read() as session:
        tenant = await branding_of(session, tenant_id)
        chosen = template or (await templates_of(session, tenant_id))[kind]
        user = await session.get(User, principal.user_id)
    return render(chosen, sample_context(tenant, user))


async def send_test(ctx: ServiceContext, kind: NotificationType) -> str:
    """Mails the tenant's template of ``kind``, rendered with sample data, to the caller; the address."""
    tenant_id = _editor(ctx)
    principal = ctx.require_principal()
    async with ctx.transaction() as session:
        user = await session.get(User, principal.user_id)
        if user is None or not user.email:
            raise invalid(None, E.USER_NOT_FOUND, "Your account has no mail address.")
        rendered = render(
            (await templates_of(session, tenant_id))[kind],
            sample_context(await branding_of(session, tenant_id), user),
        )
        body = rendered.text
        queue_mail(
            session, tenant_id=tenant_id, to=user.email, subject=f"[Test] {rendered.subject}", body=body
        )
    return user.email
