"""Billing loaders: invoices, their lines and payments, payments' refunds, disputes, payment methods,
plans and subscriptions, sellers' transfers, batched per request (one statement per kind, whatever
the number of parents)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import select

from core.scope import TenantScope
from loaders.base import LoaderSet
from models.billing import BillingSubscription, Invoice, InvoiceLine, Payment, PaymentMethod, Plan, Refund
from models.db import Reads
from models.disputes import Dispute
from models.payouts import Transfer

Row = TypeVar("Row")


def _grouped(rows: Sequence[Row], key: Callable[[Row], Any], keys: Sequence[uuid.UUID]) -> list[list[Row]]:
    groups: dict[Any, list[Row]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return [groups[k] for k in keys]


class BillingLoaders(LoaderSet):
    def __init__(self, reads: Reads, scope: TenantScope) -> None:
        super().__init__(reads, scope)
        self.invoice = self.loader(self._invoices)
        self.lines_of_invoice = self.loader(self._lines)
        self.payment = self.loader(self._payments)
        self.payments_of_invoice = self.loader(self._payments_of_invoices)
        self.refund = self.loader(self._refunds)
        self.refunds_of_payment = self.loader(self._refunds_of_payments)
        self.dispute = self.loader(self._disputes)
        self.payment_method = self.loader(self._methods)
        self.plan = self.loader(self._plans)
        self.subscription = self.loader(self._subscriptions)
        self.transfer = self.loader(self._transfers)

    async def _transfers(self, ids: Sequence[uuid.UUID]) -> list[Transfer | None]:
        return await self.rows_by_id(Transfer, ids)

    async def _invoices(self, ids: Sequence[uuid.UUID]) -> list[Invoice | None]:
        return await self.rows_by_id(Invoice, ids)

    async def _lines(self, invoice_ids: Sequence[uuid.UUID]) -> list[list[InvoiceLine]]:
        rows = await self.fetch(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id.in_(invoice_ids))
            .order_by(InvoiceLine.invoice_id, InvoiceLine.position)
        )
        return _grouped(rows, lambda line: line.invoice_id, invoice_ids)

    async def _payments(self, ids: Sequence[uuid.UUID]) -> list[Payment | None]:
        return await self.rows_by_id(Payment, ids)

    async def _payments_of_invoices(self, invoice_ids: Sequence[uuid.UUID]) -> list[list[Payment]]:
        rows = await self.fetch(
            select(Payment)
            .where(Payment.invoice_id.in_(invoice_ids))
            .order_by(Payment.created_at, Payment.id)
        )
        return _grouped(rows, lambda payment: payment.invoice_id, invoice_ids)

    async def _refunds(self, ids: Sequence[uuid.UUID]) -> list[Refund | None]:
        return await self.rows_by_id(Refund, ids)

    async def _refunds_of_payments(self, payment_ids: Sequence[uuid.UUID]) -> list[list[Refund]]:
        rows = await self.fetch(
            select(Refund).where(Refund.payment_id.in_(payment_ids)).order_by(Refund.created_at, Refund.id)
        )
        return _grouped(rows, lambda refund: refund.payment_id, payment_ids)

    async def _disputes(self, ids: Sequence[uuid.UUID]) -> list[Dispute | None]:
        return await self.rows_by_id(Dispute, ids)

    async def _methods(self, ids: Sequence[uuid.UUID]) -> list[PaymentMethod | None]:
        return await self.rows_by_id(PaymentMethod, ids)

    async def _plans(self, ids: Sequence[uuid.UUID]) -> list[Plan | None]:
        return await self.rows_by_id(Plan, ids)

    async def _subscriptions(self, ids: Sequence[uuid.UUID]) -> list[BillingSubscription | None]:
        return await self.rows_by_id(BillingSubscription, ids)
