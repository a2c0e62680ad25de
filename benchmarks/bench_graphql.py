"""Prints throughput and latency figures for typical GraphQL reads, in-process (no network).

    .venv/bin/python -m benchmarks.bench_graphql                      # embedded SQLite
    .venv/bin/python -m benchmarks.bench_graphql --postgres                   # a throwaway PostgreSQL
    .venv/bin/python -m benchmarks.bench_graphql --database-url postgresql+asyncpg://...

The database is migrated and filled with one tenant of --users users first (it must be empty or
a throwaway one)."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import insert

from core.permissions import Role
from core.scope import TenantScope
from core.settings import Settings
from models.identity import TenantKind, User, UserRole
from server.app import create_app
from server.cli import migrate
from server.runtime import Runtime
from services.identity.bootstrap import ensure_tenant, ensure_user
from services.identity.passwords import hash_password
from tests.harness.servers import PostgresServer
from tests.support.graphql import count_statements

QUERIES = {
    "me": "{ me { email roles tenant { slug } } }",
    "users(first: 50) { roles tenant }": (
        "{ users(first: 50) { totalCount edges { node { email roles tenant { slug } } } } }"
    ),
}
PASSWORD = "benchmark-password-1"


async def fill(runtime: Runtime, users: int) -> None:
    async with runtime.db.transaction(TenantScope.all_tenants()) as session:
        tenant = await ensure_tenant(session, "bench", "Bench", TenantKind.ENTERPRISE)
        await ensure_user(session, tenant, "admin@bench.example", "Admin", PASSWORD, (Role.TENANT_ADMIN,))
        password_hash = hash_password(PASSWORD)
        rows = [
            {
                "id": uuid.uuid4(),
                "tenant_id": tenant.id,
                "email": f"u{i}@bench.example",
                "full_name": f"User {i}",
                "password_hash": password_hash,
            }
            for i in range(users)
        ]
        await session.execute(insert(User), rows)
        await session.execute(
            insert(UserRole),
            [{"tenant_id": tenant.id, "user_id": row["id"], "role": Role.USER} for row in rows],
        )


async def measure(
    client: httpx.AsyncClient, token: str, query: str, requests: int, concurrency: int
) -> list[float]:
    latencies: list[float] = []
    queue = iter(range(requests))

    async def worker() -> None:
        for _ in queue:
            started = time.perf_counter()
            response = await client.post(
                "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
            )
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200 and "errors" not in response.json(), response.text

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


async def main(database_url: str, users: int, requests: int, concurrency: int) -> None:
    settings = Settings(
        database_url=database_url,
        broadcast_url="memory://",
        auth_rate_limit_per_account=10**6,
        auth_rate_limit_per_ip=10**6,
        log_level="WARNING",
    )
    await asyncio.to_thread(migrate, settings)
    app = create_app(settings)
    runtime: Runtime = app.state.runtime
    async with app.router.lifespan_context(app):
        await fill(runtime, users)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            login = await client.post(
                "/graphql",
                json={
                    "query": (
                        'mutation { login(input: {tenantSlug: "bench", email: "admin@bench.example", '
                        f'password: "{PASSWORD}"}}) {{ accessToken }} }}'
                    )
                },
            )
            token = login.json()["data"]["login"]["accessToken"]
            print(
                f"database: {runtime.db.engine.dialect.name}, users: {users}, "
                f"requests: {requests}, concurrency: {concurrency}"
            )
            print(f"{'query':<40} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'SQL/req':>8}")
            for name, query in QUERIES.items():
                await measure(client, token, query, 20, concurrency)  # warm up caches and pools
                with count_statements(runtime.db.engine) as counter:
                    await measure(client, token, query, 1, 1)
                started = time.perf_counter()
                latencies = await measure(client, token, query, requests, concurrency)
                elapsed = time.perf_counter() - started
                p95 = statistics.quantiles(latencies, n=20)[18]
                print(
                    f"{name:<40} {requests / elapsed:>8.1f} {statistics.median(latencies) * 1000:>8.2f} "
                    f"{p95 * 1000:>8.2f} {counter.count:>8}"
                )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url")
    parser.add_argument("--postgres", action="store_true", help="start a throwaway PostgreSQL server")
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(scratch) / 'bench.db'}"
        if args.postgres:
            server = PostgresServer(Path(scratch))
            server.start()
            url = server.create_database("bench")
        try:
            asyncio.run(main(url, args.users, args.requests, args.concurrency))
        finally:
            if args.postgres:
                server.stop()
