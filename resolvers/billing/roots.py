"""The billing root fields as one Query and one Mutation part, in the order the schema prints them."""

from __future__ import annotations

from strawberry.tools import merge_types

from resolvers.billing.invoices import InvoiceMutation, InvoiceQuery
from resolvers.billing.mail import MailQuery
from resolvers.billing.payments import PaymentMutation, PaymentQuery
from resolvers.billing.plans import PlanMutation, PlanQuery
from resolvers.billing.refunds import RefundMutation, RefundQuery

BillingQuery = merge_types("BillingQuery", (InvoiceQuery, PaymentQuery, RefundQuery, PlanQuery, MailQuery))
BillingMutation = merge_types(
    "BillingMutation", (InvoiceMutation, PaymentMutation, RefundMutation, PlanMutation)
)
