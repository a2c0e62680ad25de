"""Support tickets: tickets numbered per tenant, their comments and internal notes, their history.

Revision ID: 0034
Revises: 0033
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base
from migrations.tenant_policies import protect, unprotect

revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("tickets", "ticket_comments", "ticket_changes")


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "OPEN",
                "PENDING",
                "ON_HOLD",
                "SOLVED",
                "CLOSED",
                name="ticketstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "priority",
            sa.Enum("LOW", "NORMAL", "HIGH", "URGENT", name="ticketpriority", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("requester_id", sa.Uuid(), nullable=False),
        sa.Column("assignee_id", sa.Uuid(), nullable=True),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("provisioning_request_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("first_response_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("solved_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        _fk("tickets", "assignee_id", "users", "SET NULL"),
        _fk("tickets", "order_id", "orders", "SET NULL"),
        _fk("tickets", "provisioning_request_id", "provisioning_requests", "SET NULL"),
        _fk("tickets", "requester_id", "users", "RESTRICT"),
        _fk("tickets", "tenant_id", "tenants", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_tickets_tenant_id_number")),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tickets_assignee_id"), ["assignee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tickets_order_id"), ["order_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_tickets_provisioning_request_id"), ["provisioning_request_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_tickets_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index("ix_tickets_tenant_created", ["tenant_id", "created_at", "id"], unique=False)
        batch_op.create_index(
            "ix_tickets_requester_created", ["requester_id", "created_at", "id"], unique=False
        )
        batch_op.create_index("ix_tickets_tenant_status", ["tenant_id", "status"], unique=False)

    op.create_table(
        "ticket_comments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("internal", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        _fk("ticket_comments", "author_id", "users", "SET NULL"),
        _fk("ticket_comments", "tenant_id", "tenants", "CASCADE"),
        _fk("ticket_comments", "ticket_id", "tickets", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_comments")),
    )
    with op.batch_alter_table("ticket_comments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_comments_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(
            "ix_ticket_comments_ticket_created", ["ticket_id", "created_at", "id"], unique=False
        )

    op.create_table(
        "ticket_changes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("actor_user_id", sa.Uuid(), nullable=True),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        _fk("ticket_changes", "actor_user_id", "users", "SET NULL"),
        _fk("ticket_changes", "tenant_id", "tenants", "CASCADE"),
        _fk("ticket_changes", "ticket_id", "tickets", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_changes")),
    )
    with op.batch_alter_table("ticket_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_changes_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(
            "ix_ticket_changes_ticket_created", ["ticket_id", "created_at", "id"], unique=False
        )

    for table in TABLES:
        protect(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        unprotect(table)
        op.drop_table(table)
