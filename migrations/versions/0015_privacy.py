"""Privacy: data export jobs, consent records, do-not-sell.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base
from migrations.tenant_policies import protect, unprotect

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels = None
depends_on = None

PURPOSES = (
    "MARKETING_EMAILS",
    "ANALYTICS",
    "PERSONALISATION",
    "THIRD_PARTY_SHARING",
    "SALE_OF_PERSONAL_DATA",
)


def _enum(*values: str, name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=32)


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
        "consent_records",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", _enum(*PURPOSES, name="consentpurpose"), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("source", _enum("USER", "GPC", name="consentsource"), nullable=False),
        sa.Column("ip_address", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=500), nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        *_owned("consent_records"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_records")),
    )
    with op.batch_alter_table("consent_records") as batch:
        batch.create_index(batch.f("ix_consent_records_tenant_id"), ["tenant_id"], unique=False)
        batch.create_index(
            "ix_consent_records_user_purpose", ["user_id", "purpose", "created_at"], unique=False
        )
    protect("consent_records")
    op.create_table(
        "data_exports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status", _enum("QUEUED", "RUNNING", "READY", "FAILED", name="exportstatus"), nullable=False
        ),
        sa.Column("document", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("token_expires_at", when, nullable=True),
        sa.Column("downloaded_at", when, nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.Column("started_at", when, nullable=True),
        sa.Column("finished_at", when, nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        *_owned("data_exports"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_exports")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_data_exports_token_hash")),
    )
    with op.batch_alter_table("data_exports") as batch:
        batch.create_index(batch.f("ix_data_exports_tenant_id"), ["tenant_id"], unique=False)
        batch.create_index(batch.f("ix_data_exports_user_id"), ["user_id"], unique=False)
        batch.create_index("ix_data_exports_status_created", ["status", "created_at"], unique=False)
    protect("data_exports")


def downgrade() -> None:
    for table in ("data_exports", "consent_records"):
        unprotect(table)
        op.drop_table(table)
