"""Registration details, email and phone verification, password reset.

Users may register with a phone number instead of an email (email becomes nullable), and get a
username, first and last name, the time they accepted the terms and an affiliate code. One-time
secrets live in verification_challenges, text messages in sms_messages (both tenant rows, under
row-level security).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base
from migrations.tenant_policies import protect, unprotect

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels = None
depends_on = None

PURPOSES = ("VERIFY_EMAIL", "VERIFY_PHONE", "RESET_PASSWORD")
CHANNELS = ("EMAIL", "SMS")


def _owned(table: str) -> list[sa.SchemaItem]:
    """The tenant column of a tenant row, and the primary key and tenant foreign key named as the
    models' naming convention names them."""
    return [
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=f"fk_{table}_tenant_id_tenants", ondelete="CASCADE"),
    ]


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("phone", sa.String(16), nullable=True))
        batch.add_column(sa.Column("phone_verified", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("username", sa.String(32), nullable=True))
        batch.add_column(sa.Column("first_name", sa.String(200), nullable=True))
        batch.add_column(sa.Column("last_name", sa.String(200), nullable=True))
        batch.add_column(sa.Column("terms_accepted_at", models.base.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("affiliate_code", sa.String(64), nullable=True))
        batch.alter_column("email", existing_type=sa.String(320), nullable=True)
        batch.alter_column("email_skeleton", existing_type=sa.String(64), nullable=True)
        batch.create_unique_constraint("uq_users_tenant_id_phone", ["tenant_id", "phone"])
        batch.create_unique_constraint("uq_users_tenant_id_username", ["tenant_id", "username"])

    op.create_table(
        "verification_challenges",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.Enum(*PURPOSES, name="challengepurpose", native_enum=False, length=32), nullable=False),
        sa.Column("channel", sa.Enum(*CHANNELS, name="channel", native_enum=False, length=32), nullable=False),
        sa.Column("sent_to", sa.String(320), nullable=False),
        sa.Column("secret_hash", sa.String(200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("consumed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        *_owned("verification_challenges"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_verification_challenges_user_id_users", ondelete="CASCADE"),
        sa.UniqueConstraint("secret_hash", name="uq_verification_challenges_secret_hash"),
    )
    op.create_index("ix_verification_challenges_tenant_id", "verification_challenges", ["tenant_id"])
    op.create_index("ix_verification_challenges_user_purpose", "verification_challenges", ["user_id", "purpose"])
    protect("verification_challenges")

    op.create_table(
        "sms_messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("to_number", sa.String(16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        *_owned("sms_messages"),
    )
    op.create_index("ix_sms_messages_tenant_id", "sms_messages", ["tenant_id"])
    protect("sms_messages")


def downgrade() -> None:
    unprotect("sms_messages")
    op.drop_table("sms_messages")
    unprotect("verification_challenges")
    op.drop_table("verification_challenges")
    if op.get_bind().dialect.name == "postgresql":
        # Row-level security would hide every row from the UPDATE below otherwise.
        op.execute("SELECT set_config('app.platform_scope', 'on', true)")
    # A phone-only account keeps its row (orders point at it) with an address nobody receives.
    users = sa.table("users", sa.column("email", sa.String()), sa.column("email_skeleton", sa.String()), sa.column("phone", sa.String()))
    placeholder = sa.func.coalesce(users.c.phone, "unknown") + "@phone.invalid"
    op.execute(users.update().where(users.c.email.is_(None)).values(email=placeholder, email_skeleton=placeholder))
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_tenant_id_username", type_="unique")
        batch.drop_constraint("uq_users_tenant_id_phone", type_="unique")
        batch.alter_column("email_skeleton", existing_type=sa.String(64), nullable=False)
        batch.alter_column("email", existing_type=sa.String(320), nullable=False)
        batch.drop_column("affiliate_code")
        batch.drop_column("terms_accepted_at")
        batch.drop_column("last_name")
        batch.drop_column("first_name")
        batch.drop_column("username")
        batch.drop_column("phone_verified")
        batch.drop_column("phone")
        batch.drop_column("must_change_password")
