"""The invoice PDF download (GET /invoices/{id}/pdf): a real PDF for the owner and staff, RFC 7807
problems for everyone else; and the money formatting and invoice totals the PDF shows."""

from __future__ import annotations

import io
import uuid
from types import SimpleNamespace

import httpx
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from core.permissions import Role
from server.runtime import Runtime
from services.billing.invoice_pdf import format_money
from services.billing.invoices import invoice_totals, lines_of_order
from services.orders import pricing
from tests.billing.support import gid, invoice_for, make_order, raw_id
from tests.support.graphql import GraphQLClient
from tests.support.identity import quick_account


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


async def test_the_owner_and_staff_download_a_pdf_with_the_number_and_total(
    runtime: Runtime, gql: GraphQLClient, http: httpx.AsyncClient
) -> None:
    staff = await quick_account(runtime, "acme", Role.MANAGER)
    buyer = await quick_account(runtime, "acme", full_name="Ada Lovelace", email="ada@acme.example")
    order = await make_order(
        runtime, buyer, [("LAP-1", "Laptop", 99950, 1), ("BAG", "Laptop bag", 12999, 2)], tax_rate_bps=1900
    )
    invoice = await invoice_for(gql, staff, order)
    assert invoice["total"]["amount"] == 149878  # (999.50 + 2 x 129.99) x 1.19 = 1,498.78

    for account in (buyer, staff):
        response = await http.get(invoice["pdfUrl"], headers={"Authorization": f"Bearer {account.token}"})
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["content-disposition"] == f'attachment; filename="{invoice["number"]}.pdf"'
        assert response.content.startswith(b"%PDF-")
        text = pdf_text(response.content)
        assert f"Invoice {invoice['number']}" in text
        assert "1,498.78 EUR" in text
        assert "Ada Lovelace <ada@acme.example>" in text
        assert "Laptop bag (BAG)" in text and "129.99 EUR" in text
        assert "Status: OPEN" in text

    # The Relay global id works as well as the UUID.
    by_gid = await http.get(
        f"/invoices/{invoice['id']}/pdf", headers={"Authorization": f"Bearer {buyer.token}"}
    )
    assert by_gid.status_code == 200 and invoice["number"] in pdf_text(by_gid.content)


async def test_others_get_404_and_anonymous_callers_401_as_problem_json(
    runtime: Runtime, gql: GraphQLClient, http: httpx.AsyncClient
) -> None:
    staff = await quick_account(runtime, "acme", Role.SUPPORT_AGENT)
    buyer = await quick_account(runtime, "acme")
    other_user = await quick_account(runtime, "acme")
    other_tenant_admin = await quick_account(runtime, "globex", Role.TENANT_ADMIN)
    invoice = await invoice_for(gql, staff, await make_order(runtime, buyer))
    url = invoice["pdfUrl"]

    for account in (other_user, other_tenant_admin):
        response = await http.get(url, headers={"Authorization": f"Bearer {account.token}"})
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json() == {
            "type": "about:blank",
            "title": "Not Found",
            "status": 404,
            "detail": "No such invoice.",
        }
    random = await http.get(
        f"/invoices/{uuid.uuid4()}/pdf", headers={"Authorization": f"Bearer {buyer.token}"}
    )
    garbage = await http.get("/invoices/not-an-id/pdf", headers={"Authorization": f"Bearer {buyer.token}"})
    assert random.status_code == garbage.status_code == 404
    assert random.json() == garbage.json()

    anonymous = await http.get(url)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert anonymous.json()["title"] == "Unauthorized"
    forged = await http.get(url, headers={"Authorization": "Bearer not.a.token"})
    assert forged.status_code == 401 and forged.json()["status"] == 401
    # A platform admin reads any tenant's invoice.
    platform = await quick_account(runtime, "platform", Role.PLATFORM_ADMIN)
    as_platform = await http.get(
        f"/invoices/{raw_id(invoice['id'])}/pdf", headers={"Authorization": f"Bearer {platform.token}"}
    )
    assert as_platform.status_code == 200 and invoice["number"] in pdf_text(as_platform.content)
    assert gid("Invoice", raw_id(invoice["id"])) == invoice["id"]


def test_money_is_formatted_with_the_currency_s_minor_units() -> None:
    assert format_money(148749, "EUR") == "1,487.49 EUR"
    assert format_money(5, "USD") == "0.05 USD"
    assert format_money(-1200, "EUR") == "-12.00 EUR"
    assert format_money(1500, "JPY") == "1,500 JPY"
    assert format_money(1234567, "KWD") == "1,234.567 KWD"
    assert format_money(0, "GBP") == "0.00 GBP"


line_values = st.tuples(st.integers(min_value=0, max_value=10**7), st.integers(min_value=1, max_value=50))


@given(
    lines=st.lists(line_values, min_size=1, max_size=8),
    percent=st.integers(min_value=0, max_value=10_000),
    tax=st.integers(min_value=0, max_value=3_000),
    shipping=st.integers(min_value=0, max_value=10**5),
)
def test_invoice_lines_of_any_priced_order_add_up_to_the_order_total(
    lines: list[tuple[int, int]], percent: int, tax: int, shipping: int
) -> None:
    priced = pricing.price_order(
        [pricing.Line(unit_price=p, quantity=q) for p, q in lines],
        discount=pricing.Discount(percent_bps=percent),
        tax_rate_bps=tax,
        shipping=shipping,
    )
    items = [
        SimpleNamespace(
            name=f"Item {n}", sku=f"S{n}", quantity=q, unit_price=p, tax_amount=lp.tax, total=lp.total
        )
        for n, ((p, q), lp) in enumerate(zip(lines, priced.lines, strict=True))
    ]
    order = SimpleNamespace(id=uuid.uuid4(), shipping_total=shipping, total=priced.total)
    specs = lines_of_order(order, items)  # type: ignore[arg-type]
    totals = invoice_totals(specs)
    assert totals.total == priced.total
    assert totals.tax_total == priced.tax
    assert totals.subtotal == priced.subtotal - priced.discount + shipping
    assert sum(spec.discount_amount for spec in specs) == priced.discount
    assert all(spec.discount_amount >= 0 and spec.total >= 0 for spec in specs)
    assert [s.description for s in specs if s.description == "Adjustment"] == []
