"""Provisioning: a request to set up a service (an order item's, or asked for directly), its
ordered steps, the audit trail of its status changes, and the heartbeats of the workers that run
the steps (services/provisioning)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, new_id, utcnow
from models.identity.accounts import enum_column


class ProvisioningStatus(enum.StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    ACTIVE = "ACTIVE"
    FAILED = "FAILED"
    SUSPENDED = "SUSPENDED"
    DEPROVISIONING = "DEPROVISIONING"
    DEPROVISIONED = "DEPROVISIONED"


class StepName(enum.StrEnum):
    VALIDATE = "VALIDATE"
    ALLOCATE = "ALLOCATE"
    CONFIGURE = "CONFIGURE"
    DEPLOY = "DEPLOY"
    VERIFY = "VERIFY"


# The steps of every request, in the order they run.
STEPS: tuple[StepName, ...] = tuple(StepName)


class StepStatus(enum.StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class ProvisioningRequest(TenantOwned, Base):
    __tablename__ = "provisioning_requests"
    __table_args__ = (
        Index("ix_provisioning_requests_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_provisioning_requests_user_created", "user_id", "created_at", "id"),
        # What the workers look for: runnable requests whose lease is free or expired.
        Index("ix_provisioning_requests_runnable", "status", "lease_expires_at"),
        CheckConstraint("percent >= 0 AND percent <= 100", name="percent_in_range"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # The owner: who the service is for (the order's buyer).
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    order_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), index=True
    )
    order_item_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("order_items.id", ondelete="SET NULL"), unique=True
    )
    product_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("products.id", ondelete="SET NULL"), index=True
    )
    plan_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("plans.id", ondelete="SET NULL"), index=True)
    # What to set up (validated: a small JSON object); e.g. {"region": "eu-west", "size": "small"}.
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[ProvisioningStatus] = mapped_column(
        enum_column(ProvisioningStatus), default=ProvisioningStatus.PENDING
    )
    # Manual requests are set up by people (completeManualProvisioning), never by the workers.
    manual: Mapped[bool] = mapped_column(default=False, server_default=false())
    percent: Mapped[int] = mapped_column(default=0)
    # 1 for the first run, +1 per retry: part of every step's idempotency key.
    attempt: Mapped[int] = mapped_column(default=1)
    # How often it went FAILED (statistics: failure rate).
    failure_count: Mapped[int] = mapped_column(default=0)
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    # +1 on every change: a subscriber never sends an older state after a newer one.
    version: Mapped[int] = mapped_column(default=1)
    # The provider's id of the service once allocated.
    instance_id: Mapped[str | None] = mapped_column(String(128))
    # The worker running it, until when (services/provisioning/worker.py).
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    activated_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class ProvisioningStep(TenantOwned, Base):
    __tablename__ = "provisioning_steps"
    __table_args__ = (UniqueConstraint("request_id", "position"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("provisioning_requests.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    name: Mapped[StepName] = mapped_column(enum_column(StepName))
    status: Mapped[StepStatus] = mapped_column(enum_column(StepStatus), default=StepStatus.PENDING)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    message: Mapped[str | None] = mapped_column(String(500))
    # How many times a worker started it (a takeover after a lease expired starts it again; the
    # provider applies its effect once per idempotency key).
    runs: Mapped[int] = mapped_column(default=0)


class ProvisioningTransition(TenantOwned, Base):
    __tablename__ = "provisioning_transitions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("provisioning_requests.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[ProvisioningStatus | None] = mapped_column(
        enum_column(ProvisioningStatus), nullable=True
    )
    to_status: Mapped[ProvisioningStatus] = mapped_column(enum_column(ProvisioningStatus))
    # "user", "staff", "service", "admin", "worker", "payment", ...; the user when there was one.
    actor: Mapped[str] = mapped_column(String(64))
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProvisioningWorkerBeat(Base):
    """One live provisioning worker (any process): written every round, so the worker status
    counts the workers seen lately. Platform-wide (not tenant-owned)."""

    __tablename__ = "provisioning_workers"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    steps_completed: Mapped[int] = mapped_column(default=0)
    current_request_id: Mapped[uuid.UUID | None]
