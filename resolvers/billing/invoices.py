"""Root fields of invoices: lists, lookups and statistics; creating, issuing, voiding, sending."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.permissions import BILLING_ADMINS, BILLING_STAFF
from core.scopes import ApiScope
from models import billing as models
from schema.billing.invoice_inputs import (
    CreateInvoiceForOrderInput,
    CreateInvoiceInput,
    InvoiceFilterInput,
    InvoiceIdInput,
    InvoiceOrderInput,
    InvoicePayload,
    MarkOverdueInvoicesPayload,
    SendInvoiceInput,
    SendInvoicePayload,
)
from schema.billing.invoices import Invoice, InvoiceStatistics, InvoiceStatusFigures
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
from services.billing import invoice_creation, invoice_reads, invoices
from services.billing.invoice_creation import NewInvoice
from services.billing.invoice_reads import InvoiceFilter

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
        page = await invoice_reads.list_invoices(
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
        page = await invoice_reads.list_invoices(
            info.context.services,
            InvoiceFilter(overdue=True),
            invoice_reads.InvoiceOrderField.DUE_AT,
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
        return Invoice.from_model(await invoice_reads.get_invoice_by_number(info.context.services, number))

    @strawberry.field(
        extensions=access(AUTHENTICATED, READ),
        description="The latest invoice of an order that is not VOID, or null: your orders; staff: any.",
    )
    async def invoice_by_order(
        self,
        info: Info,
        order_id: Annotated[relay.GlobalID, strawberry.argument(description="The order's global id.")],
    ) -> Invoice | None:
        invoice = await invoice_reads.invoice_of_order(info.context.services, parse_uuid(order_id, "Order"))
        return Invoice.from_model(invoice) if invoice else None

    @strawberry.field(
        extensions=access(STAFF, READ), description="Invoice counts and amounts per status and currency."
    )
    async def invoice_statistics(self, info: Info) -> InvoiceStatistics:
        figures = await invoice_reads.invoice_statistics(info.context.services)
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
            CreateInvoiceInput,
            strawberry.argument(description="The order to invoice, due date and whether to issue at once."),
        ],
    ) -> InvoicePayload:
        call = invoices.create_invoice_for_order(
            info.context.services, parse_uuid(input.order_id, "Order"), due_at=input.due_at, issue=input.issue
        )
        return await mutation_payload(InvoicePayload, call, _invoice_payload)

    @strawberry.mutation(
        # Staff or a service principal: HasRole cannot say "or a service", the service checks it.
        extensions=access(AUTHENTICATED, WRITE),
        description="A standalone invoice with its own lines. Requires: MANAGER, SUPPORT_AGENT or "
        "TENANT_ADMIN in the tenant (or PLATFORM_ADMIN), or a service principal with invoices:write.",
    )
    async def create_invoice(
        self,
        info: Info,
        input: Annotated[
            CreateInvoiceInput, strawberry.argument(description="The customer, currency, lines and due date.")
        ],
    ) -> InvoicePayload:
        new = NewInvoice(
            customer_id=parse_uuid(input.customer_id, "User"),
            currency=input.currency,
            lines=[
                invoices.LineSpec(line.description, line.quantity, line.unit_amount, line.tax_amount)
                for line in input.lines
            ],
            due_at=input.due_at,
            issue=input.issue,
        )
        call = invoice_creation.create_invoice(
            info.context.services, new, idempotency_key=info.context.idempotency_key(input.idempotency_key)
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
