"""MFA factors: factor ids, SMS factors (codes on challenges), the login's client on its challenge,
email verification codes beside the link.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels = None
depends_on = None


def _challenge_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("device_id", sa.String(length=128), nullable=True),
        sa.Column("device_name", sa.String(length=200), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("mfa_credentials") as batch:
        batch.add_column(sa.Column("factor_id", sa.Uuid(), nullable=True))
        batch.add_column(
            sa.Column(
                "method",
                sa.Enum("TOTP", "SMS", name="mfamethod", native_enum=False, length=32),
                nullable=False,
                server_default="TOTP",
            )
        )
        batch.add_column(sa.Column("label", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("phone", sa.String(length=16), nullable=True))
        batch.alter_column("secret_ciphertext", existing_type=sa.String(length=200), nullable=True)
    # Existing (TOTP) factors get their id here: a portable uuid for each row.
    credentials = sa.table(
        "mfa_credentials", sa.column("user_id", sa.Uuid()), sa.column("factor_id", sa.Uuid())
    )
    bind = op.get_bind()
    for (user_id,) in bind.execute(sa.select(credentials.c.user_id)).all():
        bind.execute(
            credentials.update().where(credentials.c.user_id == user_id).values(factor_id=uuid.uuid4())
        )
    with op.batch_alter_table("mfa_credentials") as batch:
        batch.alter_column("factor_id", existing_type=sa.Uuid(), nullable=False)
        batch.create_unique_constraint(batch.f("uq_mfa_credentials_factor_id"), ["factor_id"])
    with op.batch_alter_table("mfa_challenges") as batch:
        for column in _challenge_columns():
            batch.add_column(column)
    with op.batch_alter_table("verification_challenges") as batch:
        batch.add_column(sa.Column("code_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("verification_challenges") as batch:
        batch.drop_column("code_hash")
    with op.batch_alter_table("mfa_challenges") as batch:
        for column in reversed(_challenge_columns()):
            batch.drop_column(column.name)
    # SMS factors have no secret: they go (their users' MFA off) before the column is required again.
    op.execute(
        "UPDATE users SET mfa_enabled = false WHERE id IN "
        "(SELECT user_id FROM mfa_credentials WHERE method = 'SMS')"
    )
    op.execute(
        "DELETE FROM mfa_recovery_codes WHERE user_id IN "
        "(SELECT user_id FROM mfa_credentials WHERE method = 'SMS')"
    )
    op.execute("DELETE FROM mfa_credentials WHERE method = 'SMS'")
    with op.batch_alter_table("mfa_credentials") as batch:
        batch.drop_constraint(batch.f("uq_mfa_credentials_factor_id"), type_="unique")
        batch.alter_column("secret_ciphertext", existing_type=sa.String(length=200), nullable=False)
        batch.drop_column("phone")
        batch.drop_column("label")
        batch.drop_column("method")
        batch.drop_column("factor_id")
