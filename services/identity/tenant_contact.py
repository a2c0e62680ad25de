"""A tenant's contact details (seed 002's contact_name, contact_email, contact_phone), billing email
and allowed browser origins, changed by its admins (or a platform admin)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete

from core.errors import FieldProblem
from core.lengths import MAX_NAME_LENGTH
from core.permissions import TENANT_ADMINS
from models.db import locked_or_not_found
from models.identity.accounts import Tenant
from models.identity.tenant_profile import TenantOrigin
from services.context import ServiceContext
from services.identity.accounts import email_problem, length_problem, reject, valid_email
from services.identity.contacts import checked_phone, given, phone_problem
from services.identity.origins import normalised_origins, origins_problem

EMAIL_FIELDS = {"contact_email": "contactEmail", "billing_email": "billingEmail"}
CONTACT_FIELDS = ("contact_name", "contact_phone", *EMAIL_FIELDS)


def _problem(name: str, value: Any) -> FieldProblem | None:
    if name == "allowed_origins":
        return origins_problem("allowedOrigins", value or [])
    text = given(value)
    if text is None:
        return None  # null or blank clears it
    if name == "contact_name":
        return length_problem("contactName", text.strip(), MAX_NAME_LENGTH)
    if name == "contact_phone":
        return phone_problem("contactPhone", text)
    return email_problem(EMAIL_FIELDS[name], text)


def _stored(name: str, value: str | None) -> str | None:
    text = given(value)
    if text is None:
        return None
    if name == "contact_name":
        return text.strip()
    if name == "contact_phone":
        return checked_phone(text)
    return valid_email(text)


async def update_contact(ctx: ServiceContext, tenant_id: uuid.UUID, changes: dict[str, Any]) -> Tenant:
    """Sets the given fields (``contact_name``, ``contact_email``, ``contact_phone``,
    ``billing_email``: null or blank clears; ``allowed_origins``: the whole list, null empties it).
    Phone numbers are stored in E.164, emails in their canonical form, origins normalised."""
    ctx.require_role(*TENANT_ADMINS)
    reject(*(_problem(name, value) for name, value in changes.items()))
    async with ctx.transaction() as session:
        tenant = await locked_or_not_found(session, Tenant, tenant_id)
        for name in CONTACT_FIELDS:
            if name in changes:
                setattr(tenant, name, _stored(name, changes[name]))
        if "allowed_origins" in changes:
            await session.execute(delete(TenantOrigin).where(TenantOrigin.tenant_id == tenant.id))
            session.add_all(
                TenantOrigin(id=uuid.uuid4(), tenant_id=tenant.id, origin=origin)
                for origin in normalised_origins(changes["allowed_origins"] or [])
            )
        return tenant
