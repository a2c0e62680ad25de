"""Everything one server process holds for its lifetime: settings, database, broadcast, the
rate limiter, the outbox dispatcher, the access store and the subscriptions' fan-out, the payment
provider and the billing workers (mail sender, overdue invoices and subscription renewals), the
cloud provider adapter and a provisioning worker."""

from __future__ import annotations

import gc
import logging
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from core.principal import Principal
from core.settings import Settings
from models.db import Database, RequestReads
from realtime.broadcast import Broadcast, create_broadcast
from realtime.dispatcher import OutboxDispatcher
from realtime.fanout import Fanout
from server.migration_state import MigrationWatch
from server.websocket_limits import WebsocketLimits
from services.billing.in_process_provider import InProcessPaymentProvider
from services.billing.jobs import BillingJobs
from services.billing.mail import MailSender, create_mailer
from services.billing.provider import PaymentProvider
from services.billing.stripe_provider import StripeHttpProvider
from services.commit_rules import BEFORE_COMMIT
from services.context import ServiceContext
from services.identity.access import AccessStore
from services.identity.api_keys import KeyGate
from services.identity.data_export import DataExportWorker
from services.notifications.push import PushWorker
from services.platform.maintenance import MaintenanceGate
from services.provisioning.provider import CloudProvider, create_provider
from services.provisioning.worker import ProvisioningWorker
from services.ratelimit import RateLimiter, create_rate_limiter
from subgraph.groups import BILLING_JOBS, DATA_EXPORTS, MAIL, PROVISIONING, WEB_PUSH, runs_worker

log = logging.getLogger(__name__)

# Young objects are collected after this many allocations (CPython's default is 700): a fan-out to
# 1,000 subscriptions allocates in bursts, and collections that often promote the burst's
# short-lived objects until full collections walk the whole heap mid-burst (hundreds of ms).
GC_YOUNG_THRESHOLD = 10_000


def settle_garbage_collector() -> None:
    """Once the process is up: what exists now (modules, the schema, mappers, the pool) lives as
    long as the process, so full collections stop walking it (gc.freeze), and young objects are
    collected less often."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    broadcast: Broadcast
    rate_limiter: RateLimiter
    dispatcher: OutboxDispatcher
    payment_provider: PaymentProvider
    billing_jobs: BillingJobs
    # Live access state of sign-in sessions, and the subscriptions' event feeds.
    access: AccessStore
    fanout: Fanout
    # The websocket limits, with this process's count of open connections per user.
    websocket_limits: WebsocketLimits
    # Whether the database is at the migrations' head (warned at start, asked by /readyz).
    migrations: MigrationWatch
    # API keys' requests per minute and their batched usage counts.
    api_keys: KeyGate
    # Collects personal data exports (GDPR), in every process (jobs are claimed SKIP LOCKED).
    data_exports: DataExportWorker
    push_worker: PushWorker
    # The cloud provider adapter and this process's provisioning workers (started unless
    # provisioning_worker_in_server is false: then `tenantgraph worker` processes run the steps).
    cloud_provider: CloudProvider
    provisioning_workers: tuple[ProvisioningWorker, ...]
    # Maintenance mode as this process knows it (services/platform/maintenance.py).
    maintenance: MaintenanceGate
    # Only when SMTP is configured; otherwise queued mail stays in the table.
    mail_sender: MailSender | None = None

    def services_for(
        self,
        connection: HTTPConnection,
        *,
        principal: Principal | None = None,
        reads: RequestReads | None = None,
    ) -> ServiceContext:
        """The services' context of one request or websocket: who calls and from where, with this
        process's hooks (the outbox dispatcher's wake-up, the access store's drop)."""
        return ServiceContext(
            db=self.db,
            reads=reads,
            settings=self.settings,
            rate_limiter=self.rate_limiter,
            principal=principal,
            client_ip=connection.client.host if connection.client else "unknown",
            user_agent=connection.headers.get("user-agent"),
            correlation_id=connection.scope.get("state", {}).get("correlation_id"),
            on_events_committed=self.dispatcher.wake,
            on_access_changed=self.access.forget,
        )

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        db = Database(settings.database_url, before_commit=BEFORE_COMMIT)
        payment_provider = _payment_provider(settings)
        broadcast = create_broadcast(settings.broadcast_url)
        rate_limiter = create_rate_limiter(
            settings.rate_limit_redis_url, settings.auth_rate_limit_window_seconds
        )
        cloud_provider = create_provider(settings.provisioning_step_seconds, settings.provisioning_fail_steps)
        return cls(
            settings=settings,
            db=db,
            broadcast=broadcast,
            rate_limiter=rate_limiter,
            dispatcher=OutboxDispatcher(db, broadcast, poll_seconds=settings.outbox_poll_seconds),
            payment_provider=payment_provider,
            billing_jobs=BillingJobs(db, settings.billing_jobs_seconds, payment_provider, settings),
            access=AccessStore(db, broadcast, settings.access_cache_seconds),
            fanout=Fanout(broadcast),
            websocket_limits=WebsocketLimits(settings),
            migrations=MigrationWatch(db),
            api_keys=KeyGate(db, rate_limiter, settings.api_key_usage_flush_seconds),
            data_exports=DataExportWorker(db, settings),
            push_worker=PushWorker(db, settings),
            cloud_provider=cloud_provider,
            # SQLite has no row locks to share work by: one worker there.
            provisioning_workers=tuple(
                provisioning_worker(db, cloud_provider, settings)
                for _ in range(1 if db.is_sqlite else settings.provisioning_workers_in_server)
            ),
            maintenance=MaintenanceGate(db, broadcast, settings.maintenance_cache_seconds),
            mail_sender=(
                MailSender(
                    db,
                    mailer,
                    settings.mail_from,
                    settings.mail_poll_seconds,
                    max_attempts=settings.mail_max_attempts,
                    retry_seconds=settings.mail_retry_seconds,
                )
                if (mailer := create_mailer(settings.smtp_url))
                else None
            ),
        )

    def runs(self, worker: str) -> bool:
        """Whether this process runs ``worker``: every one in the monolith, in a split deployment
        those of its group (subgraph/groups.py:WORKER_GROUPS)."""
        return runs_worker(self.settings.subgraph, worker)

    async def start(self) -> None:
        await self.migrations.warn_if_pending()
        await self.broadcast.connect()
        await self.access.start()
        await self.maintenance.start()
        self.dispatcher.attach_gap_filler()
        self.dispatcher.start()
        if self.mail_sender is not None and self.runs(MAIL):
            self.mail_sender.start()
        self.billing_jobs.on_events = self.dispatcher.wake
        if self.runs(BILLING_JOBS):
            self.billing_jobs.start()
        self.api_keys.usage.start()
        if self.runs(DATA_EXPORTS):
            self.data_exports.start()
        if self.runs(WEB_PUSH):
            self.push_worker.start()
        if self.settings.provisioning_worker_in_server and self.runs(PROVISIONING):
            for worker in self.provisioning_workers:
                worker.on_events = self.dispatcher.wake
                worker.start()
        settle_garbage_collector()

    async def stop(self) -> None:
        for worker in self.provisioning_workers:
            await worker.stop()
        await self.push_worker.stop()
        await self.data_exports.stop()
        await self.api_keys.usage.stop()
        await self.billing_jobs.stop()
        if self.mail_sender is not None:
            await self.mail_sender.stop()
        await self.payment_provider.aclose()
        await self.dispatcher.stop()
        await self.fanout.close()
        await self.access.stop()
        await self.maintenance.stop()
        await self.broadcast.disconnect()
        await self.rate_limiter.close()
        await self.db.dispose()


def provisioning_worker(db: Database, provider: CloudProvider, settings: Settings) -> ProvisioningWorker:
    return ProvisioningWorker(
        db,
        provider,
        poll_seconds=settings.provisioning_poll_seconds,
        lease_seconds=settings.provisioning_lease_seconds,
        auto_start=settings.provisioning_starts_itself,
    )


def _payment_provider(settings: Settings) -> PaymentProvider:
    """Stripe over HTTP when a provider URL is configured, else the in-process look-alike."""
    if settings.payment_provider_url:
        return StripeHttpProvider(settings.payment_provider_url, settings.payment_provider_secret_key)
    return InProcessPaymentProvider()
