"""Users get the confusable skeleton of their email (Unicode TR39), indexed per tenant, so a
look-alike of an existing account is refused at sign-up; existing rows are backfilled.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.emails import email_skeleton, parse_email

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels = None
depends_on = None

USERS = sa.table(
    "users",
    sa.column("id", sa.Uuid()),
    sa.column("tenant_id", sa.Uuid()),
    sa.column("email", sa.String()),
    sa.column("email_skeleton", sa.String()),
)


def canonical_rows(rows: list[sa.Row[tuple[object, object, str]]]) -> list[dict[str, object]]:
    """Each user's email in today's canonical form (IDNA domain, NFKC) unless another account of
    its tenant already holds that form, with the skeleton of what is kept."""
    taken = {(row.tenant_id, row.email) for row in rows}
    changes = []
    for row in rows:
        parsed = parse_email(row.email)
        email = row.email
        if parsed is not None and parsed.address != email and (row.tenant_id, parsed.address) not in taken:
            taken.add((row.tenant_id, parsed.address))
            email = parsed.address
        changes.append({"user_id": row.id, "email": email, "email_skeleton": email_skeleton(email)})
    return changes


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email_skeleton", sa.String(length=64), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.select(USERS.c.id, USERS.c.tenant_id, USERS.c.email)).all()
    if rows:
        by_id = sa.update(USERS).where(USERS.c.id == sa.bindparam("user_id"))
        connection.execute(by_id, canonical_rows(rows))
    with op.batch_alter_table("users") as batch:
        batch.alter_column("email_skeleton", existing_type=sa.String(length=64), nullable=False)
        batch.create_index("ix_users_tenant_email_skeleton", ["tenant_id", "email_skeleton"])


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_index("ix_users_tenant_email_skeleton")
        batch.drop_column("email_skeleton")
