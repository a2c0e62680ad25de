"""DNS: zones, records, zone templates (platform-level) and IP allocations with their PTR names.

Revision ID: 0032
Revises: 0031
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base
from migrations.tenant_policies import protect, protect_platform_table, unprotect, unprotect_platform_table

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dns_zone_templates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("records", sa.JSON(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dns_zone_templates")),
        sa.UniqueConstraint("name", name=op.f("uq_dns_zone_templates_name")),
    )
    op.create_table(
        "dns_ip_allocations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("address", sa.String(length=45), nullable=False),
        sa.Column("ptr", sa.String(length=253), nullable=True),
        sa.Column("ptr_updated_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_dns_ip_allocations_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dns_ip_allocations")),
        sa.UniqueConstraint("address", name=op.f("uq_dns_ip_allocations_address")),
    )
    with op.batch_alter_table("dns_ip_allocations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dns_ip_allocations_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "dns_zones",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=253), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING_VERIFICATION",
                "ACTIVE",
                "SUSPENDED",
                name="dnszonestatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("nameservers", sa.JSON(), nullable=False),
        sa.Column("soa_mname", sa.String(length=253), nullable=False),
        sa.Column("soa_rname", sa.String(length=253), nullable=False),
        sa.Column("serial", sa.BigInteger(), nullable=False),
        sa.Column("refresh", sa.Integer(), nullable=False),
        sa.Column("retry", sa.Integer(), nullable=False),
        sa.Column("expire", sa.Integer(), nullable=False),
        sa.Column("minimum", sa.Integer(), nullable=False),
        sa.Column("default_ttl", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Uuid(), nullable=True),
        sa.Column("checked_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("check_delegated", sa.Boolean(), nullable=True),
        sa.Column("check_nameservers", sa.JSON(), nullable=False),
        sa.Column("check_message", sa.String(length=500), nullable=True),
        sa.Column("verified_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["dns_zone_templates.id"],
            name=op.f("fk_dns_zones_template_id_dns_zone_templates"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_dns_zones_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dns_zones")),
        sa.UniqueConstraint("name", name=op.f("uq_dns_zones_name")),
    )
    with op.batch_alter_table("dns_zones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dns_zones_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index("ix_dns_zones_tenant_name", ["tenant_id", "name", "id"], unique=False)

    op.create_table(
        "dns_records",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("zone_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=253), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "A",
                "AAAA",
                "CNAME",
                "MX",
                "TXT",
                "NS",
                "SRV",
                "CAA",
                "PTR",
                name="dnsrecordtype",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("ttl", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("weight", sa.Integer(), nullable=True),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("flags", sa.Integer(), nullable=True),
        sa.Column("tag", sa.String(length=16), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_dns_records_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"], ["dns_zones.id"], name=op.f("fk_dns_records_zone_id_dns_zones"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dns_records")),
    )
    with op.batch_alter_table("dns_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dns_records_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index("ix_dns_records_zone_name", ["zone_id", "name", "id"], unique=False)
    for table in ("dns_ip_allocations", "dns_zones", "dns_records"):
        protect(table)
    protect_platform_table("dns_zone_templates")


def downgrade() -> None:
    for table in ("dns_records", "dns_zones", "dns_ip_allocations"):
        unprotect(table)
    unprotect_platform_table("dns_zone_templates")
    with op.batch_alter_table("dns_records", schema=None) as batch_op:
        batch_op.drop_index("ix_dns_records_zone_name")
        batch_op.drop_index(batch_op.f("ix_dns_records_tenant_id"))

    op.drop_table("dns_records")
    with op.batch_alter_table("dns_zones", schema=None) as batch_op:
        batch_op.drop_index("ix_dns_zones_tenant_name")
        batch_op.drop_index(batch_op.f("ix_dns_zones_tenant_id"))

    op.drop_table("dns_zones")
    with op.batch_alter_table("dns_ip_allocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dns_ip_allocations_tenant_id"))

    op.drop_table("dns_ip_allocations")
    op.drop_table("dns_zone_templates")
