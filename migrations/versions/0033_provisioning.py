"""Provisioning: requests, their steps and audit trail, worker heartbeats; Product.requires_provisioning.

Revision ID: 0033
Revises: 0032
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base
from migrations.tenant_policies import protect, protect_platform_table, unprotect, unprotect_platform_table

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "provisioning_workers",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("steps_completed", sa.Integer(), nullable=False),
        sa.Column("current_request_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provisioning_workers")),
    )
    with op.batch_alter_table("provisioning_workers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_provisioning_workers_last_seen_at"), ["last_seen_at"], unique=False
        )

    op.create_table(
        "provisioning_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("order_item_id", sa.Uuid(), nullable=True),
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column("plan_id", sa.Uuid(), nullable=True),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING",
                "RUNNING",
                "ACTIVE",
                "FAILED",
                "SUSPENDED",
                "DEPROVISIONING",
                "DEPROVISIONED",
                name="provisioningstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("manual", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("failure_count", sa.Integer(), nullable=False),
        sa.Column("failure_reason", sa.String(length=500), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.String(length=128), nullable=True),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_expires_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("activated_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "percent >= 0 AND percent <= 100", name=op.f("ck_provisioning_requests_percent_in_range")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_provisioning_requests_order_id_orders"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_item_id"],
            ["order_items.id"],
            name=op.f("fk_provisioning_requests_order_item_id_order_items"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_provisioning_requests_plan_id_plans"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_provisioning_requests_product_id_products"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_provisioning_requests_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_provisioning_requests_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provisioning_requests")),
        sa.UniqueConstraint("order_item_id", name=op.f("uq_provisioning_requests_order_item_id")),
    )
    with op.batch_alter_table("provisioning_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_provisioning_requests_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_provisioning_requests_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_provisioning_requests_product_id"), ["product_id"], unique=False)
        batch_op.create_index(
            "ix_provisioning_requests_runnable", ["status", "lease_expires_at"], unique=False
        )
        batch_op.create_index(
            "ix_provisioning_requests_tenant_created", ["tenant_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_provisioning_requests_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(
            "ix_provisioning_requests_user_created", ["user_id", "created_at", "id"], unique=False
        )

    op.create_table(
        "provisioning_steps",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "name",
            sa.Enum(
                "VALIDATE",
                "ALLOCATE",
                "CONFIGURE",
                "DEPLOY",
                "VERIFY",
                name="stepname",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING", "RUNNING", "COMPLETED", "FAILED", name="stepstatus", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("started_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("message", sa.String(length=500), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["provisioning_requests.id"],
            name=op.f("fk_provisioning_steps_request_id_provisioning_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_provisioning_steps_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provisioning_steps")),
        sa.UniqueConstraint("request_id", "position", name=op.f("uq_provisioning_steps_request_id_position")),
    )
    with op.batch_alter_table("provisioning_steps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_provisioning_steps_request_id"), ["request_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_provisioning_steps_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "provisioning_transitions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column(
            "from_status",
            sa.Enum(
                "PENDING",
                "RUNNING",
                "ACTIVE",
                "FAILED",
                "SUSPENDED",
                "DEPROVISIONING",
                "DEPROVISIONED",
                name="provisioningstatus",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "PENDING",
                "RUNNING",
                "ACTIVE",
                "FAILED",
                "SUSPENDED",
                "DEPROVISIONING",
                "DEPROVISIONED",
                name="provisioningstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("actor_user_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["users.id"],
            name=op.f("fk_provisioning_transitions_actor_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["provisioning_requests.id"],
            name=op.f("fk_provisioning_transitions_request_id_provisioning_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_provisioning_transitions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provisioning_transitions")),
    )
    with op.batch_alter_table("provisioning_transitions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_provisioning_transitions_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_provisioning_transitions_tenant_id"), ["tenant_id"], unique=False
        )

    for table in ("provisioning_requests", "provisioning_steps", "provisioning_transitions"):
        protect(table)
    protect_platform_table("provisioning_workers")

    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("requires_provisioning", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_column("requires_provisioning")

    for table in ("provisioning_transitions", "provisioning_steps", "provisioning_requests"):
        unprotect(table)
    unprotect_platform_table("provisioning_workers")

    with op.batch_alter_table("provisioning_transitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provisioning_transitions_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_provisioning_transitions_request_id"))

    op.drop_table("provisioning_transitions")
    with op.batch_alter_table("provisioning_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provisioning_steps_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_provisioning_steps_request_id"))

    op.drop_table("provisioning_steps")
    with op.batch_alter_table("provisioning_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_provisioning_requests_user_created")
        batch_op.drop_index(batch_op.f("ix_provisioning_requests_tenant_id"))
        batch_op.drop_index("ix_provisioning_requests_tenant_created")
        batch_op.drop_index("ix_provisioning_requests_runnable")
        batch_op.drop_index(batch_op.f("ix_provisioning_requests_product_id"))
        batch_op.drop_index(batch_op.f("ix_provisioning_requests_plan_id"))
        batch_op.drop_index(batch_op.f("ix_provisioning_requests_order_id"))

    op.drop_table("provisioning_requests")
    with op.batch_alter_table("provisioning_workers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provisioning_workers_last_seen_at"))

    op.drop_table("provisioning_workers")
