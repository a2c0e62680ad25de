"""Wallets: user balance and affiliate balance ledger, daily usage quota.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base
from migrations.tenant_policies import protect, unprotect

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels = None
depends_on = None


def _owned(table: str) -> list[sa.ForeignKeyConstraint]:
    return [
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
        ),
    ]


def upgrade() -> None:
    when = models.base.UTCDateTime(timezone=True)
    op.create_table(
        "wallets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance_minor", sa.BigInteger(), nullable=False),
        sa.Column("affiliate_balance_minor", sa.BigInteger(), nullable=False),
        sa.Column("daily_quota", sa.Integer(), nullable=True),
        sa.Column("parallel_ceiling", sa.Integer(), nullable=True),
        sa.Column("quota_day", sa.Date(), nullable=True),
        sa.Column("quota_used", sa.Integer(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("balance_minor >= 0", name=op.f("ck_wallets_balance_not_negative")),
        sa.CheckConstraint(
            "affiliate_balance_minor >= 0", name=op.f("ck_wallets_affiliate_balance_not_negative")
        ),
        sa.CheckConstraint("quota_used >= 0", name=op.f("ck_wallets_quota_used_not_negative")),
        *_owned("wallets"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallets")),
        sa.UniqueConstraint("user_id", name=op.f("uq_wallets_user_id")),
    )
    with op.batch_alter_table("wallets") as batch:
        batch.create_index(batch.f("ix_wallets_tenant_id"), ["tenant_id"], unique=False)
    protect("wallets")
    op.create_table(
        "wallet_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("BALANCE", "AFFILIATE", name="walletkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance_after_minor", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("posted_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("amount_minor <> 0", name=op.f("ck_wallet_entries_amount_not_zero")),
        sa.CheckConstraint(
            "balance_after_minor >= 0", name=op.f("ck_wallet_entries_balance_after_not_negative")
        ),
        *_owned("wallet_entries"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_entries")),
        sa.UniqueConstraint("user_id", "reference", name=op.f("uq_wallet_entries_user_id_reference")),
    )
    with op.batch_alter_table("wallet_entries") as batch:
        batch.create_index(batch.f("ix_wallet_entries_tenant_id"), ["tenant_id"], unique=False)
        batch.create_index("ix_wallet_entries_user_created", ["user_id", "created_at"], unique=False)
    protect("wallet_entries")


def downgrade() -> None:
    for table in ("wallet_entries", "wallets"):
        unprotect(table)
        op.drop_table(table)
