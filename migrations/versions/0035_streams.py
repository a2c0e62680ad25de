"""Live streams and moderation reports; maintenance mode, announcements, feature flags (global and
per tenant), help links and client error reports.

Revision ID: 0035
Revises: 0034
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base
from migrations.tenant_policies import protect, protect_platform_table, unprotect, unprotect_platform_table

TENANT_TABLES = (
    "streams",
    "moderation_reports",
    "feature_flag_overrides",
    "help_links",
    "client_error_reports",
)
PLATFORM_TABLES = ("maintenance_state", "announcements", "feature_flags")

revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "announcements",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("content", sa.String(length=5000), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("INFO", "WARNING", "ERROR", name="announcementkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("starts_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ends_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
    )
    op.create_index("ix_announcements_created", "announcements", ["created_at", "id"], unique=False)
    op.create_table(
        "feature_flags",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feature_flags")),
        sa.UniqueConstraint("name", name=op.f("uq_feature_flags_name")),
    )
    op.create_table(
        "maintenance_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_state")),
    )
    op.create_table(
        "feature_flag_overrides",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("flag_id", sa.Uuid(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["flag_id"],
            ["feature_flags.id"],
            name=op.f("fk_feature_flag_overrides_flag_id_feature_flags"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_feature_flag_overrides_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feature_flag_overrides")),
        sa.UniqueConstraint("tenant_id", "flag_id", name=op.f("uq_feature_flag_overrides_tenant_id_flag_id")),
    )
    op.create_index(
        op.f("ix_feature_flag_overrides_flag_id"), "feature_flag_overrides", ["flag_id"], unique=False
    )
    op.create_index(
        op.f("ix_feature_flag_overrides_tenant_id"), "feature_flag_overrides", ["tenant_id"], unique=False
    )
    op.create_table(
        "help_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_help_links_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_links")),
        sa.UniqueConstraint("tenant_id", "key", name=op.f("uq_help_links_tenant_id_key")),
    )
    op.create_index(op.f("ix_help_links_tenant_id"), "help_links", ["tenant_id"], unique=False)
    op.create_table(
        "client_error_reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("message", sa.String(length=2000), nullable=False),
        sa.Column("stack", sa.String(length=20000), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("user_agent", sa.String(length=500), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_client_error_reports_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_client_error_reports_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_error_reports")),
    )
    op.create_index(
        "ix_client_error_reports_tenant_created",
        "client_error_reports",
        ["tenant_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_client_error_reports_tenant_id"), "client_error_reports", ["tenant_id"], unique=False
    )
    op.create_table(
        "moderation_reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reporter_id", sa.Uuid(), nullable=False),
        sa.Column(
            "target_type",
            sa.Enum("USER", "STREAM", "COMMENT", name="reporttarget", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=False),
        sa.Column("details", sa.String(length=2000), nullable=False),
        sa.Column(
            "status",
            sa.Enum("PENDING", "RESOLVED", "DISMISSED", name="reportstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "action",
            sa.Enum("RESOLVE", "DISMISS", "BAN", "WARN", name="reportaction", native_enum=False, length=32),
            nullable=True,
        ),
        sa.Column("resolution_note", sa.String(length=500), nullable=True),
        sa.Column("resolved_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["users.id"],
            name=op.f("fk_moderation_reports_reporter_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["users.id"],
            name=op.f("fk_moderation_reports_resolved_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_moderation_reports_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_reports")),
    )
    op.create_index(
        op.f("ix_moderation_reports_reporter_id"), "moderation_reports", ["reporter_id"], unique=False
    )
    op.create_index(
        op.f("ix_moderation_reports_tenant_id"), "moderation_reports", ["tenant_id"], unique=False
    )
    op.create_index(
        "ix_moderation_reports_tenant_status_created",
        "moderation_reports",
        ["tenant_id", "status", "created_at"],
        unique=False,
    )
    op.create_table(
        "streams",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=5000), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("DRAFT", "LIVE", "ENDED", name="streamstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("viewer_count", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("key_ciphertext", sa.String(length=255), nullable=False),
        sa.Column("banned", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_streams_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_streams_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_streams")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_streams_key_hash")),
    )
    op.create_index("ix_streams_tenant_created", "streams", ["tenant_id", "created_at", "id"], unique=False)
    op.create_index(op.f("ix_streams_tenant_id"), "streams", ["tenant_id"], unique=False)
    op.create_index("ix_streams_user_created", "streams", ["user_id", "created_at", "id"], unique=False)

    for table in TENANT_TABLES:
        protect(table)
    for table in PLATFORM_TABLES:
        protect_platform_table(table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        unprotect(table)
    for table in PLATFORM_TABLES:
        unprotect_platform_table(table)
    op.drop_index("ix_streams_user_created", table_name="streams")
    op.drop_index(op.f("ix_streams_tenant_id"), table_name="streams")
    op.drop_index("ix_streams_tenant_created", table_name="streams")
    op.drop_table("streams")
    op.drop_index("ix_moderation_reports_tenant_status_created", table_name="moderation_reports")
    op.drop_index(op.f("ix_moderation_reports_tenant_id"), table_name="moderation_reports")
    op.drop_index(op.f("ix_moderation_reports_reporter_id"), table_name="moderation_reports")
    op.drop_table("moderation_reports")
    op.drop_index(op.f("ix_client_error_reports_tenant_id"), table_name="client_error_reports")
    op.drop_index("ix_client_error_reports_tenant_created", table_name="client_error_reports")
    op.drop_table("client_error_reports")
    op.drop_index(op.f("ix_help_links_tenant_id"), table_name="help_links")
    op.drop_table("help_links")
    op.drop_index(op.f("ix_feature_flag_overrides_tenant_id"), table_name="feature_flag_overrides")
    op.drop_index(op.f("ix_feature_flag_overrides_flag_id"), table_name="feature_flag_overrides")
    op.drop_table("feature_flag_overrides")
    op.drop_table("maintenance_state")
    op.drop_table("feature_flags")
    op.drop_index("ix_announcements_created", table_name="announcements")
    op.drop_table("announcements")
