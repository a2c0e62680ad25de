"""The document of a personal data export: every row that holds a user's personal data, by table.

Secrets never leave: password, key, token and code hashes, the TOTP secret (only whether MFA is
on) and payment client secrets are left out."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from typing import Any

from sqlalchemy import ColumnElement, inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import Base, utcnow
from models.billing import (
    BillingSubscription,
    Invoice,
    InvoiceLine,
    MailMessage,
    Payment,
    PaymentMethod,
    Refund,
)
from models.catalog import Review
from models.identity.accounts import AuthSession, User, UserRole
from models.identity.api_keys import ApiKey
from models.identity.invites import Invite
from models.identity.mfa import MfaCredential, MfaRecoveryCode
from models.identity.oauth import UserIdentity
from models.identity.privacy import ConsentRecord, DataExport
from models.identity.verification import SmsMessage
from models.orders import Cart, CartItem, Order, OrderItem

FORMAT_VERSION = 1
SECRET_COLUMNS = frozenset(
    {
        "password_hash",
        "email_skeleton",
        "secret_hash",
        "token_hash",
        "code_hash",
        "secret_ciphertext",
        "client_secret",
        "document",
    }
)


def _value(value: Any) -> Any:
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def plain(row: Base) -> dict[str, Any]:
    """The row's columns (by attribute name) as JSON values, secrets left out."""
    return {
        attr.key: _value(getattr(row, attr.key))
        for attr in inspect(row).mapper.column_attrs
        if attr.key not in SECRET_COLUMNS
    }


async def _rows(
    session: AsyncSession, model: type[Base], *where: ColumnElement[bool]
) -> list[dict[str, Any]]:
    found = await session.scalars(select(model).where(*where))
    return [plain(row) for row in found]


async def personal_data(session: AsyncSession, user: User) -> dict[str, Any]:
    """Everything of ``user`` (in ``session``, scoped to the user's tenant)."""
    me = user.id
    order_ids = select(Order.id).where(Order.user_id == me)
    invoice_ids = select(Invoice.id).where(Invoice.customer_id == me)
    payment_ids = select(Payment.id).where(Payment.user_id == me)
    cart_ids = select(Cart.id).where(Cart.user_id == me)
    mfa = await session.get(MfaCredential, me)
    unused_codes = await _rows(
        session, MfaRecoveryCode, MfaRecoveryCode.user_id == me, MfaRecoveryCode.used_at.is_(None)
    )
    return {
        "formatVersion": FORMAT_VERSION,
        "exportedAt": utcnow().isoformat(),
        "user": plain(user),
        "roles": [row["role"] for row in await _rows(session, UserRole, UserRole.user_id == me)],
        "sessions": await _rows(session, AuthSession, AuthSession.user_id == me),
        "apiKeys": await _rows(session, ApiKey, ApiKey.user_id == me),
        "mfa": {
            "enabled": user.mfa_enabled,
            "setUpAt": _value(mfa.created_at) if mfa else None,
            "unusedRecoveryCodes": len(unused_codes),
        },
        "oauthIdentities": await _rows(session, UserIdentity, UserIdentity.user_id == me),
        "consents": await _rows(session, ConsentRecord, ConsentRecord.user_id == me),
        "invitesToMe": await _rows(session, Invite, Invite.email == user.email),
        "carts": await _rows(session, Cart, Cart.user_id == me),
        "cartItems": await _rows(session, CartItem, CartItem.cart_id.in_(cart_ids)),
        "orders": await _rows(session, Order, Order.user_id == me),
        "orderItems": await _rows(session, OrderItem, OrderItem.order_id.in_(order_ids)),
        "invoices": await _rows(session, Invoice, Invoice.customer_id == me),
        "invoiceLines": await _rows(session, InvoiceLine, InvoiceLine.invoice_id.in_(invoice_ids)),
        "payments": await _rows(session, Payment, Payment.user_id == me),
        "paymentMethods": await _rows(session, PaymentMethod, PaymentMethod.user_id == me),
        "refunds": await _rows(
            session, Refund, or_(Refund.payment_id.in_(payment_ids), Refund.requested_by == me)
        ),
        "subscriptions": await _rows(session, BillingSubscription, BillingSubscription.user_id == me),
        "reviews": await _rows(session, Review, Review.buyer_id == me),
        "mailMessages": await _rows(session, MailMessage, MailMessage.to_address == user.email),
        "smsMessages": (
            await _rows(session, SmsMessage, SmsMessage.to_number == user.phone) if user.phone else []
        ),
        "dataExports": await _rows(session, DataExport, DataExport.user_id == me),
    }
