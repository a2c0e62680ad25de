"""API keys and service clients (OAuth2 client credentials).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base
from migrations.tenant_policies import PLATFORM, protect, unprotect

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels = None
depends_on = None


def _on_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _enum(*values: str, name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=32)


def upgrade() -> None:
    when = models.base.UTCDateTime(timezone=True)
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("environment", _enum("LIVE", "TEST", name="apikeyenvironment"), nullable=False),
        sa.Column("key_prefix", sa.String(length=16), nullable=False),
        sa.Column("last_four", sa.String(length=4), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("allowed_ips", sa.JSON(), nullable=False),
        sa.Column("rate_limit_per_minute", sa.Integer(), nullable=False),
        sa.Column("expires_at", when, nullable=True),
        sa.Column("last_used_at", when, nullable=True),
        sa.Column("usage_count", sa.BigInteger(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("revoked_at", when, nullable=True),
        sa.Column("revoke_reason", sa.String(length=500), nullable=True),
        sa.Column("revoked_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_api_keys_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_keys_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_user_id"],
            ["users.id"],
            name=op.f("fk_api_keys_revoked_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_api_keys_secret_hash")),
    )
    with op.batch_alter_table("api_keys") as batch:
        batch.create_index(batch.f("ix_api_keys_tenant_id"), ["tenant_id"], unique=False)
        batch.create_index("ix_api_keys_tenant_created", ["tenant_id", "created_at", "id"], unique=False)
        batch.create_index("ix_api_keys_user_created", ["user_id", "created_at", "id"], unique=False)
    protect("api_keys")
    op.create_table(
        "service_clients",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("created_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("last_token_at", when, nullable=True),
        sa.Column("revoked_at", when, nullable=True),
        sa.Column("revoke_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_service_clients_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_service_clients_client_id")),
    )
    if _on_postgresql():
        # The platform's own table (no tenant): only platform-scoped sessions see or write it.
        op.execute("ALTER TABLE service_clients ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE service_clients FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY platform_scope ON service_clients USING ({PLATFORM}) WITH CHECK ({PLATFORM})"
        )


def downgrade() -> None:
    if _on_postgresql():
        op.execute("DROP POLICY platform_scope ON service_clients")
    op.drop_table("service_clients")
    unprotect("api_keys")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_index("ix_api_keys_user_created")
        batch.drop_index("ix_api_keys_tenant_created")
        batch.drop_index(batch.f("ix_api_keys_tenant_id"))
    op.drop_table("api_keys")
