"""The periodic billing jobs: overdue invoices, billing subscription renewals, usage billing, the
retries of refunds the provider failed, gateway payments the payer abandoned and sellers'
transfers."""

from __future__ import annotations

from collections.abc import Callable

from core.settings import Settings
from core.workers import PollingWorker, Round
from models.db import Database
from services.billing.gateway_payments import settle_abandoned_gateway_payments
from services.billing.invoices import mark_overdue_invoices
from services.billing.payouts import send_due_transfers
from services.billing.plans import renew_due_billing_subscriptions
from services.billing.provider import PaymentProvider
from services.billing.refund_processing import retry_due_refunds
from services.billing.usage_billing import bill_usage


class BillingJobs(PollingWorker):
    """Overdue invoices, subscription renewals, usage billing, refund retries and transfers, every
    ``interval`` seconds, in each process (rows are claimed with SKIP LOCKED, so processes share
    the work); an interval of 0 runs none."""

    name = "billing-jobs"

    def __init__(
        self,
        db: Database,
        interval: float,
        provider: PaymentProvider,
        settings: Settings,
        on_events: Callable[[], None] | None = None,
    ) -> None:
        # A failed round waits the interval too: these jobs are not urgent.
        super().__init__(interval, max_retry_seconds=interval)
        self.db = db
        self.provider = provider
        self.settings = settings
        self.interval = interval
        self.on_events = on_events

    def start(self) -> None:
        if self.interval > 0:
            super().start()

    async def run_once(self) -> tuple[int, int]:
        overdue = await mark_overdue_invoices(self.db)
        renewed = await renew_due_billing_subscriptions(self.db)
        usage = await bill_usage(self.db)  # the ended periods' unbilled usage
        refunds = await retry_due_refunds(self.db, self.provider, self.settings)
        abandoned = await settle_abandoned_gateway_payments(self.db, self.settings)
        transfers = await send_due_transfers(self.db, self.provider)
        if (
            overdue or renewed or usage.invoices or refunds or abandoned or transfers
        ) and self.on_events is not None:
            self.on_events()
        return overdue, renewed

    async def run_round(self) -> Round:
        await self.run_once()
        return Round.DONE
