"""PostgreSQL row-level security, the second wall behind the tenancy guard: every table holding a
tenant's rows shows a statement only the rows of the tenant named by the session variable
``app.tenant_id``, or every row when ``app.platform_scope`` is ``'on'`` (platform administrators and
system jobs); with neither set, none (models/row_security.py sets them). FORCE, because the
application's role owns these tables and owners otherwise bypass their policies. SQLite has no
row-level security: nothing happens there.

Rows of no tenant (``tenant_id`` NULL) are the platform's. One exception: access-change events in
the outbox are tenant-less and are recorded inside tenant transactions (services/events.py), so any
scoped session may insert such an event and read it back (INSERT ... RETURNING needs to), never change
or delete one.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels = None
depends_on = None

# Each table and the column naming its tenant, as of this revision (a later table adds its own).
TENANT_COLUMNS = {
    "tenants": "id",
    **{
        table: "tenant_id"
        for table in (
            "users", "user_roles", "auth_sessions", "refresh_tokens", "categories", "brands", "products",
            "reviews", "carts", "cart_items", "orders", "order_items", "order_status_changes", "invoices",
            "invoice_lines", "payment_methods", "payments", "refunds", "plans", "billing_subscriptions",
            "webhook_events", "mail_messages", "idempotency_records", "tenant_counters", "outbox_events",
        )
    },
}  # fmt: skip

# Scalar subqueries: evaluated once per statement, not once per row.
TENANT = "(SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid)"
PLATFORM = "(SELECT current_setting('app.platform_scope', true) = 'on')"
SCOPED = "(SELECT current_setting('app.tenant_id', true) <> '' OR current_setting('app.platform_scope', true) = 'on')"


def _on_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _on_postgresql():
        return
    for table, column in TENANT_COLUMNS.items():
        rule = f"{column} = {TENANT} OR {PLATFORM}"
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_scope ON {table} USING ({rule}) WITH CHECK ({rule})")
    tenantless = f"tenant_id IS NULL AND {SCOPED}"
    op.execute(f"CREATE POLICY tenantless_insert ON outbox_events FOR INSERT WITH CHECK ({tenantless})")
    op.execute(f"CREATE POLICY tenantless_select ON outbox_events FOR SELECT USING ({tenantless})")


def downgrade() -> None:
    if not _on_postgresql():
        return
    op.execute("DROP POLICY tenantless_select ON outbox_events")
    op.execute("DROP POLICY tenantless_insert ON outbox_events")
    for table in TENANT_COLUMNS:
        op.execute(f"DROP POLICY tenant_scope ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
