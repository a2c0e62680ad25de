"""Row-level security for a migration's new tables (the wall behind the tenancy guard; see
0005_row_level_security.py): a table holding a tenant's rows shows a statement only the rows of the
tenant named by ``app.tenant_id``, or every row under ``app.platform_scope``. PostgreSQL only."""

from __future__ import annotations

from alembic import op

TENANT = "(SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid)"
PLATFORM = "(SELECT current_setting('app.platform_scope', true) = 'on')"
SCOPED = (
    "(SELECT current_setting('app.tenant_id', true) <> ''"
    " OR current_setting('app.platform_scope', true) = 'on')"
)


def _on_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def protect(table: str, column: str = "tenant_id") -> None:
    """Forces the tenant policy on ``table``, whose ``column`` names the tenant of each row."""
    if not _on_postgresql():
        return
    rule = f"{column} = {TENANT} OR {PLATFORM}"
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_scope ON {table} USING ({rule}) WITH CHECK ({rule})")


def unprotect(table: str) -> None:
    if not _on_postgresql():
        return
    op.execute(f"DROP POLICY tenant_scope ON {table}")
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


def protect_platform_table(table: str) -> None:
    """Forces on ``table``, which holds the platform's rows (no tenant's): every scoped session
    reads them, only the platform scope writes them."""
    if not _on_postgresql():
        return
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY platform_writes ON {table} USING ({PLATFORM}) WITH CHECK ({PLATFORM})")
    op.execute(f"CREATE POLICY scoped_reads ON {table} FOR SELECT USING ({SCOPED})")


def unprotect_platform_table(table: str) -> None:
    if not _on_postgresql():
        return
    op.execute(f"DROP POLICY scoped_reads ON {table}")
    op.execute(f"DROP POLICY platform_writes ON {table}")
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
