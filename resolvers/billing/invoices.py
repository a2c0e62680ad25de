"""Root fields of invoices: lists, lookups and statistics; creating, issuing, voiding, sending."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.permissions import BILLING_ADMINS, BILLING_STAFF
from core.scopes import ApiScope
from models import billing as models
from schema.billing.invoices import (
    CreateInvoiceForOrderInput,
    Invoice,
    InvoiceFilterInput,
    InvoiceIdInput,
    InvoiceOrderInput,
    InvoicePayload,
    InvoiceStatistics,
    InvoiceStatusFigures,
    MarkOverdueInvoicesPayload,
    SendInvoiceInput,
    SendInvoicePayload,
)
from schema.billing.mail import MailMessage
from schema.directives import AUTHENTICATED, SERVICE_ONLY, HasRole, HasScope, access
from schema.errors import mutation_payload
from schema.nodes import node_or_not_found, optional_reference, parse_uuid
from schema.pagination import (
    FILTER,
    SORT,
    After,
    Before,
    Connection,
    First,
    Last,
    OrderDirection,
    connection,
    page_args,
)
from services.billing import invoices
from services.billing.invoices import InvoiceFilter

STAFF = HasRole(*BILLING_STAFF)
ADMINS = HasRole(*BILLING_ADMINS)
READ = HasScope(ApiScope.INVOICES_READ)
WRITE = HasScope(ApiScope.INVOICES_WRITE)


def _invoice_payload(invoice: models.Invoice) -> InvoicePayload:
    return InvoicePayload(invoice=Invoice.from_model(invoice))


@strawberry.type
class InvoiceQuery:
    @strawberry.field(
        extensions=access(AUTHENTICATED, READ),
        description="Your invoices; MANAGER, SUPPORT_AGENT and TENANT_ADMIN see all of the tenant's.",
    )
    async def invoices(
        self,
        info: Info,
        filter: Annotated[InvoiceFilterInput | None, FILTER] = None,
        order_by: Annotated[InvoiceOrderInput | None, SORT] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Invoice]:
        f = filter or InvoiceFilterInput()
        order = order_by or InvoiceOrderInput()
        page = await invoices.list_invoices(
            info.context.services,
            InvoiceFilter(
                status=f.status,
                customer_id=optional_reference(f.customer_id, "User"),
                order_id=optional_reference(f.order_id, "Order"),
                subscription_id=optional_reference(f.subscription_id, "BillingSubscription"),
                currency=f.currency,
            ),
            order.field,
            order.direction == OrderDirection.DESC,
            page_args(first, after, last, before),
        )
        return connection(page, Invoice.from_model)

    @strawberry.field(
        extensions=access(AUTHENTICATED, READ),
        description="Invoices OVERDUE, or OPEN past their due date (yours; staff: the tenant's).",
    )
    async def overdue_invoices(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Invoice]:
        page = await invoices.list_invoices(
            info.context.services,
            InvoiceFilter(overdue=True),
            invoices.InvoiceOrderField.DUE_AT,
            False,
            page_args(first, after, last, before),
        )
        return connection(page, Invoice.from_model)

    @strawberry.field(
        extensions=access(AUTHENTICATED, READ), description="An invoice: yours, or any for staff."
    )
    async def invoice(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="The invoice's global id.")],
    ) -> Invoice:
        return await node_or_not_found(Invoice, info, id)

    @strawberry.field(extensions=access(AUTHENTICATED, READ), description="An invoice by its number.")
    async def invoice_by_number(
        self,
        info: Info,
        number: Annotated[str, strawberry.argument(description="The invoice number, e.g. INV-2026-000042.")],
    ) -> Invoice:
        return Invoice.from_model(await invoices.get_invoice_by_number(info.context.services, number))

    @strawberry.field(
        extensions=access(STAFF, READ), description="Invoice counts and amounts per status and currency."
    )
    async def invoice_statistics(self, info: Info) -> InvoiceStatistics:
        figures = await invoices.invoice_statistics(info.context.services)
        return InvoiceStatistics(
            count=sum(f.count for f in figures),
            by_status=[InvoiceStatusFigures.from_result(f) for f in figures],
        )


@strawberry.type
class InvoiceMutation:
    @strawberry.mutation(
        extensions=access(STAFF, WRITE), description="Invoice an order: its items become the lines."
    )
    async def create_invoice_for_order(
        self,
        info: Info,
        input: Annotated[
            CreateInvoiceForOrderInput,
            strawberry.argument(description="The order to invoice, due date and whether to issue at once."),
        ],
    ) -> InvoicePayload:
        call = invoices.create_invoice_for_order(
            info.context.services, parse_uuid(input.order_id, "Order"), due_at=input.due_at, issue=input.issue
        )
        return await mutation_payload(InvoicePayload, call, _invoice_payload)

    @strawberry.mutation(extensions=access(STAFF, WRITE), description="DRAFT -> OPEN.")
    async def issue_invoice(
        self,
        info: Info,
        input: Annotated[InvoiceIdInput, strawberry.argument(description="The DRAFT invoice to issue.")],
    ) -> InvoicePayload:
        call = invoices.issue_invoice(info.context.services, parse_uuid(input.id, "Invoice"))
        return await mutation_payload(InvoicePayload, call, _invoice_payload)

    @strawberry.mutation(
        extensions=access(SERVICE_ONLY, HasScope(ApiScope.INVOICES_VOID)),
        description="Void an unpaid invoice (service-only).",
    )
    async def void_invoice(
        self,
        info: Info,
        input: Annotated[InvoiceIdInput, strawberry.argument(description="The invoice to void (not PAID).")],
    ) -> InvoicePayload:
        call = invoices.void_invoice(info.context.services, parse_uuid(input.id, "Invoice"))
        return await mutation_payload(InvoicePayload, call, _invoice_payload)

    @strawberry.mutation(
        extensions=access(STAFF, WRITE), description="E-mail the invoice with its PDF to the customer."
    )
    async def send_invoice(
        self,
        info: Info,
        input: Annotated[
            SendInvoiceInput, strawberry.argument(description="The invoice to mail and, optionally, to whom.")
        ],
    ) -> SendInvoicePayload:
        call = invoices.send_invoice(info.context.services, parse_uuid(input.id, "Invoice"), input.to)
        return await mutation_payload(
            SendInvoicePayload,
            call,
            lambda r: SendInvoicePayload(
                invoice=Invoice.from_model(r[0]), mail_message=MailMessage.from_model(r[1])
            ),
        )

    @strawberry.mutation(
        extensions=access(ADMINS), description="OPEN invoices past their due date become OVERDUE now."
    )
    async def mark_overdue_invoices(self, info: Info) -> MarkOverdueInvoicesPayload:
        call = invoices.mark_overdue_in_tenant(info.context.services)
        return await mutation_payload(
            MarkOverdueInvoicesPayload, call, lambda n: MarkOverdueInvoicesPayload(count=n)
        )
