"""Invoice inputs and payloads (split out of schema/billing/invoices.py, which keeps the types)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from models.billing import InvoiceStatus
from schema.billing.invoices import Invoice
from schema.billing.mail import MailMessage
from schema.billing.plans import BillingSubscription
from schema.errors import UserError, user_errors_field
from schema.money import BigInt
from schema.pagination import OrderDirection
from services.billing.invoice_reads import InvoiceOrderField

# ---- inputs -------------------------------------------------------------------------------------


@strawberry.input(description="Which invoices to list; the conditions given all apply.")
class InvoiceFilterInput:
    status: InvoiceStatus | None = strawberry.field(default=None, description="Only invoices in this status.")
    customer_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only this customer's (staff)."
    )
    order_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only the invoice of this order."
    )
    subscription_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only this billing subscription's."
    )
    currency: str | None = strawberry.field(
        default=None, description="Only invoices in this ISO 4217 currency."
    )


@strawberry.input(description="How invoices are sorted (ties in id order).")
class InvoiceOrderInput:
    field: InvoiceOrderField = strawberry.field(default=InvoiceOrderField.CREATED_AT, description="Sort key.")
    direction: OrderDirection = strawberry.field(default=OrderDirection.ASC, description="Sort direction.")


@strawberry.input(description="An invoice billing an order's lines.")
class CreateInvoiceForOrderInput:
    order_id: relay.GlobalID = strawberry.field(description="The order's global id (not cancelled).")
    due_at: datetime | None = strawberry.field(default=None, description="Default: 14 days from now.")
    issue: bool = strawberry.field(default=False, description="Issue it at once (OPEN) instead of DRAFT.")


@strawberry.input(
    description="One line of a standalone invoice; its total is quantity x unitAmount + taxAmount."
)
class InvoiceLineInput:
    description: str = strawberry.field(description="What is billed, 1 to 500 characters.")
    quantity: int = strawberry.field(default=1, description="1 to 1,000,000.")
    unit_amount: BigInt = strawberry.field(description="Price of one unit in minor units, 0 to 10^12.")
    tax_amount: BigInt = strawberry.field(
        default=0, description="Tax of the line in minor units, 0 to 10^12."
    )


@strawberry.input(description="A standalone invoice with its own lines (not from an order).")
class CreateInvoiceInput:
    customer_id: relay.GlobalID = strawberry.field(description="The billed user (of this tenant).")
    currency: str = strawberry.field(description="ISO 4217 currency of every amount, e.g. EUR.")
    lines: list[InvoiceLineInput] = strawberry.field(description="1 to 100 lines, in this order.")
    due_at: datetime | None = strawberry.field(default=None, description="In the future; default 14 days.")
    issue: bool = strawberry.field(default=False, description="Issue it at once (OPEN) instead of DRAFT.")
    idempotency_key: str | None = strawberry.field(default=None, description="Or the Idempotency-Key header.")


@strawberry.input(description="One invoice, by id.")
class InvoiceIdInput:
    id: relay.GlobalID = strawberry.field(description="The invoice's global id.")


@strawberry.input(description="An invoice to mail, with its PDF attached.")
class SendInvoiceInput:
    id: relay.GlobalID = strawberry.field(description="The invoice's global id (OPEN, OVERDUE or PAID).")
    to: str | None = strawberry.field(default=None, description="Default: the customer's e-mail.")


# ---- payloads -----------------------------------------------------------------------------------


@strawberry.type(description="The result of an invoice change: the invoice as it is now, or userErrors.")
class InvoicePayload:
    invoice: Invoice | None = strawberry.field(default=None, description="The invoice after the change.")
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of sending an invoice: it and the queued mail, or userErrors.")
class SendInvoicePayload:
    invoice: Invoice | None = strawberry.field(default=None, description="The invoice, with sentAt set.")
    mail_message: MailMessage | None = strawberry.field(
        default=None, description="The mail queued for delivery."
    )
    user_errors: list[UserError] = user_errors_field()


@strawberry.type(description="The result of the overdue sweep.")
class MarkOverdueInvoicesPayload:
    count: int = strawberry.field(default=0, description="How many OPEN invoices became OVERDUE.")
    user_errors: list[UserError] = user_errors_field()


# Here rather than with the plans: it carries the new period's invoice.
@strawberry.type(description="The result of a billing subscription change, or userErrors.")
class BillingSubscriptionPayload:
    subscription: BillingSubscription | None = strawberry.field(
        default=None, description="The billing subscription after the change."
    )
    invoice: Invoice | None = strawberry.field(
        default=None, description="The new period's invoice, if one began."
    )
    user_errors: list[UserError] = user_errors_field()
