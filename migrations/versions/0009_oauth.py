"""OAuth and OIDC sign-in: started sign-ins (state, PKCE verifier, nonce), linked provider
identities, and the provider of each session it opened.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base
from migrations.tenant_policies import protect, unprotect

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels = None
depends_on = None

TABLES = ("oauth_states", "user_identities", "oauth_sign_ins")


def _tenant_column() -> sa.Column[object]:
    return sa.Column("tenant_id", sa.Uuid(), nullable=False)


def _tenant_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants"), ondelete="CASCADE"
    )


def upgrade() -> None:
    utc = models.base.UTCDateTime(timezone=True)
    op.create_table(
        "oauth_states",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("redirect_uri", sa.String(length=2000), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("expires_at", utc, nullable=False),
        _tenant_column(),
        _tenant_key("oauth_states"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_states")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_oauth_states_state_hash")),
    )
    with op.batch_alter_table("oauth_states", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oauth_states_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_oauth_states_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "user_identities",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("last_login_at", utc, nullable=True),
        _tenant_column(),
        _tenant_key("user_identities"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_identities_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_identities")),
        sa.UniqueConstraint(
            "tenant_id", "provider", "subject", name=op.f("uq_user_identities_tenant_id_provider_subject")
        ),
    )
    with op.batch_alter_table("user_identities", schema=None) as batch_op:
        batch_op.create_index("ix_user_identities_user", ["user_id", "provider"], unique=False)
        batch_op.create_index(batch_op.f("ix_user_identities_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "oauth_sign_ins",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("identity_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        _tenant_column(),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["user_identities.id"],
            name=op.f("fk_oauth_sign_ins_identity_id_user_identities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["auth_sessions.id"],
            name=op.f("fk_oauth_sign_ins_session_id_auth_sessions"),
            ondelete="CASCADE",
        ),
        _tenant_key("oauth_sign_ins"),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_oauth_sign_ins")),
    )
    with op.batch_alter_table("oauth_sign_ins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oauth_sign_ins_identity_id"), ["identity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_oauth_sign_ins_tenant_id"), ["tenant_id"], unique=False)

    for table in TABLES:
        protect(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        unprotect(table)
        op.drop_table(table)
