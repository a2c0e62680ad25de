"""The invoice as a document: amounts formatted in their currency, and the PDF (attached to the
invoice e-mail, downloaded through server/downloads.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fpdf import FPDF
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.principal import Principal
from models.billing import Invoice, InvoiceLine
from models.db import Database
from models.identity.accounts import Tenant, User
from services.billing.access import can_see
from services.money import minor_digits


def format_money(amount: int, currency: str) -> str:
    """``123456, "EUR"`` -> ``"1,234.56 EUR"`` (integer arithmetic only)."""
    digits = minor_digits(currency)
    sign = "-" if amount < 0 else ""
    major, minor = divmod(abs(amount), 10**digits)
    text = f"{major:,}" + (f".{minor:0{digits}d}" if digits else "")
    return f"{sign}{text} {currency}"


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    invoice: Invoice
    lines: list[InvoiceLine]
    customer_name: str
    customer_email: str
    seller_name: str


async def invoice_document(session: AsyncSession, invoice: Invoice) -> InvoiceDocument:
    lines = list(
        await session.scalars(
            select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id).order_by(InvoiceLine.position)
        )
    )
    customer = await session.get(User, invoice.customer_id)
    tenant = await session.get(Tenant, invoice.tenant_id)
    return InvoiceDocument(
        invoice=invoice,
        lines=lines,
        customer_name=customer.full_name if customer else "",
        customer_email=(customer.email or "") if customer else "",  # phone-only accounts have none
        seller_name=tenant.name if tenant else "",
    )


def _latin1(text: str) -> str:
    # The PDF core fonts cover Latin-1; anything else is shown as "?" rather than failing.
    return text.encode("latin-1", "replace").decode("latin-1")


def pdf_filename(invoice: Invoice) -> str:
    return f"{invoice.number}.pdf"


def render_invoice_pdf(document: InvoiceDocument) -> bytes:
    invoice = document.invoice
    money = lambda amount: format_money(amount, invoice.currency)  # noqa: E731
    date = lambda value: value.strftime("%Y-%m-%d") if value else "-"  # noqa: E731
    pdf = FPDF(format="A4")
    pdf.set_title(f"Invoice {invoice.number}")
    pdf.set_author(_latin1(document.seller_name))
    pdf.set_creator("tenantgraph")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, _latin1(f"Invoice {invoice.number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for text in (
        f"From: {document.seller_name}",
        f"Bill to: {document.customer_name} <{document.customer_email}>",
        f"Status: {invoice.status.value}",
        f"Issued: {date(invoice.issued_at)}    Due: {date(invoice.due_at)}",
    ):
        pdf.cell(0, 6, _latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    widths = (90, 20, 40, 40)
    pdf.set_font("Helvetica", "B", 10)
    for width, title, align in zip(
        widths, ("Description", "Qty", "Unit price", "Amount"), "LRRR", strict=True
    ):
        pdf.cell(width, 7, title, border="B", align=align)
    pdf.ln()
    pdf.set_font("Helvetica", "", 10)
    for line in document.lines:
        cells = (
            _latin1(line.description[:60]),
            str(line.quantity),
            money(line.unit_amount),
            money(line.total),
        )
        for width, text, align in zip(widths, cells, "LRRR", strict=True):
            pdf.cell(width, 7, text, align=align)
        pdf.ln()
    pdf.ln(2)
    for label, amount, bold in (
        ("Subtotal", invoice.subtotal, False),
        ("Tax", invoice.tax_total, False),
        ("Total", invoice.total, True),
        ("Paid", invoice.amount_paid, False),
        ("Amount due", max(invoice.total - invoice.amount_paid, 0), True),
    ):
        pdf.set_font("Helvetica", "B" if bold else "", 10)
        pdf.cell(sum(widths[:3]), 7, label, align="R")
        pdf.cell(widths[3], 7, money(amount), align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


async def invoice_pdf(db: Database, principal: Principal, invoice_id: uuid.UUID) -> tuple[str, bytes] | None:
    """(file name, PDF) of an invoice the principal may read; None otherwise."""
    async with db.session(principal.scope) as session:
        invoice = await session.get(Invoice, invoice_id)
        if invoice is None or not can_see(principal, invoice.customer_id):
            return None
        document = await invoice_document(session, invoice)
    return pdf_filename(invoice), render_invoice_pdf(document)
