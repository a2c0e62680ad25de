"""S1, websocket fan-out: N real graphql-transport-ws subscribers of ``orderStatusChanged`` on one
server process, fed by order status changes made through the GraphQL API.

    .venv/bin/python bench/fanout.py [--subscribers 1000] [--duration 60] [--rate 10]

Starts a throwaway PostgreSQL and Redis (tests/harness/servers.py) and one ``tenantgraph serve``
process, creates one tenant with a product, a buyer and N staff accounts (MANAGER: they see every
order of the tenant), and prints:

- one event to N subscribers: delivery latency p50/p99 over all subscribers (several rounds);
- ``--rate`` events/s for ``--duration`` s: latency per 10 s window, first vs last window;
- RSS of the server per idle subscription, and RSS after every subscriber left vs before.

Latency is measured from the moment the mutation is sent until the subscriber's client has read
the message, so it includes the mutation itself (its own round trip is printed too). The clients
run in this process: their own CPU time is part of the figures, i.e. they are upper bounds."""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from argon2 import PasswordHasher  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402
from websockets.typing import Subprotocol  # noqa: E402

from core.permissions import Role  # noqa: E402
from core.scope import TenantScope  # noqa: E402
from core.settings import Settings  # noqa: E402
from models.catalog import Product, ProductStatus  # noqa: E402
from models.db import Database  # noqa: E402
from models.identity.accounts import TenantKind, User, UserRole  # noqa: E402
from server.cli import migrate  # noqa: E402
from services.context import ServiceContext  # noqa: E402
from services.identity.auth import start_session  # noqa: E402
from services.identity.bootstrap import ensure_tenant  # noqa: E402
from services.ratelimit import create_rate_limiter  # noqa: E402
from tests.harness.servers import PostgresServer, RedisServer  # noqa: E402
from tests.support.live_server import LiveServer, server_env  # noqa: E402

SIGNING_KEY = "bench-signing-key-that-is-long-enough-0123456789"
SUBSCRIPTION = """
subscription {
  orderStatusChanged { from to actor order { number status user { email } items { quantity } } }
}
"""
CREATE_ORDER = """
mutation($input: CreateOrderInput!) { createOrder(input: $input) { order { id number } userErrors { code } } }
"""
SUBMIT = "mutation($input: OrderTransitionInput!) { submitOrder(input: $input) { order { status } } }"
CANCEL = "mutation($input: OrderTransitionInput!) { cancelOrder(input: $input) { order { status } } }"
ADDRESS = {"name": "Bench", "line1": "1 Bench St", "city": "London", "postalCode": "EC1A", "country": "GB"}
# Targets of issue 7.
TARGET_P99_MS = 100.0
TARGET_KIB_PER_SUBSCRIPTION = 50.0
TARGET_RSS_RETURN = 0.10
WINDOW_SECONDS = 10.0

Key = tuple[str, str]  # (order number, new status)


def global_id(type_name: str, raw: uuid.UUID) -> str:
    return base64.b64encode(f"{type_name}:{raw}".encode()).decode()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def raise_open_files_limit(wanted: int) -> None:
    """Children (the server) inherit the limit: N sockets on each side, plus the pool and files."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard == resource.RLIM_INFINITY else min(hard, max(soft, wanted))
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft < wanted:
        print(f"warning: open files limit is {soft}, below the {wanted} this run needs", file=sys.stderr)


# ---- data -----------------------------------------------------------------------------------


@dataclass
class Dataset:
    tenant_id: uuid.UUID
    product_gid: str
    buyer_token: str
    staff_tokens: list[str]


async def seed(settings: Settings, subscribers: int) -> Dataset:
    """One tenant, one product, a buyer and ``subscribers`` MANAGER accounts, each signed in once
    (sessions opened with the service function login uses, without argon2 per account)."""
    db = Database(settings.database_url)
    password_hash = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("bench-password-1")
    ctx = ServiceContext(db=db, settings=settings, rate_limiter=create_rate_limiter(None, 60))
    try:
        async with db.transaction(TenantScope.all_tenants()) as session:
            tenant = await ensure_tenant(session, "bench", "Bench", TenantKind.ENTERPRISE)
            tenant_id = tenant.id
        scope = TenantScope.of(tenant_id)
        async with db.transaction(scope) as session:
            product = Product(
                id=uuid.uuid4(),
                tenant_id=tenant_id,
                sku="BENCH-1",
                name="Bench router",
                base_price=1000,
                currency="EUR",
                status=ProductStatus.ACTIVE,
                attributes={},
                image_urls=[],
            )
            session.add(product)

        async def account(n: int, role: Role) -> str:
            async with db.transaction(scope) as session:
                user = User(
                    id=uuid.uuid4(),
                    tenant_id=tenant_id,
                    email=f"{role.value.lower()}{n}@bench.example",
                    full_name=f"Bench {role.value.title()} {n}",
                    password_hash=password_hash,
                )
                session.add(user)
                session.add(UserRole(tenant_id=tenant_id, user_id=user.id, role=role))
                await session.flush()
                return (await start_session(ctx, session, user)).access_token

        buyer = await account(0, Role.USER)
        staff = []
        for start in range(0, subscribers, 100):
            staff += await asyncio.gather(
                *(account(n, Role.MANAGER) for n in range(start, min(subscribers, start + 100)))
            )
        return Dataset(tenant_id, global_id("Product", product.id), buyer, staff)
    finally:
        await ctx.rate_limiter.close()
        await db.dispose()


# ---- subscribers ----------------------------------------------------------------------------


@dataclass
class Subscriber:
    ws: ClientConnection
    arrivals: dict[Key, float] = field(default_factory=dict)
    errors: list[Any] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, url: str, token: str) -> Subscriber:
        ws = await connect(
            url, subprotocols=[Subprotocol("graphql-transport-ws")], open_timeout=30, max_queue=None
        )
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        ack = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"connection_init refused: {ack}")
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}))
        subscriber = cls(ws)
        subscriber.task = asyncio.create_task(subscriber._receive())
        return subscriber

    async def _receive(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in self.ws:
                now = time.monotonic()
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "ping":
                    await self.ws.send('{"type":"pong"}')
                    continue
                if kind != "next" or message["payload"].get("errors"):
                    self.errors.append(message)
                    continue
                change = message["payload"]["data"]["orderStatusChanged"]
                self.arrivals[(change["order"]["number"], change["to"])] = now

    async def close(self) -> None:
        await self.ws.close()
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


async def open_subscribers(url: str, tokens: Iterable[str], batch: int = 50) -> list[Subscriber]:
    opened: list[Subscriber] = []
    tokens = list(tokens)
    for start in range(0, len(tokens), batch):
        opened += await asyncio.gather(*(Subscriber.open(url, t) for t in tokens[start : start + batch]))
    return opened


async def close_subscribers(subscribers: list[Subscriber]) -> None:
    for start in range(0, len(subscribers), 100):
        await asyncio.gather(*(s.close() for s in subscribers[start : start + 100]))


# ---- events ---------------------------------------------------------------------------------


class Shop:
    """Status changes through the API: each create, submit and cancel is one event."""

    def __init__(self, http: httpx.AsyncClient, data: Dataset) -> None:
        self.http = http
        self.data = data
        self.sent: dict[Key, float] = {}
        self.round_trips: list[float] = []

    async def _call(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        started = time.monotonic()
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {self.data.buyer_token}"},
        )
        self.round_trips.append(time.monotonic() - started)
        body: dict[str, Any] = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise RuntimeError(f"mutation failed: {response.status_code} {body}")
        return body["data"]

    async def create(self) -> tuple[str, str]:
        """A new PENDING order: (global id, number)."""
        started = time.monotonic()
        line = {"productId": self.data.product_gid, "quantity": 1}
        data = await self._call(CREATE_ORDER, {"input": {"items": [line], "shippingAddress": ADDRESS}})
        order = data["createOrder"]["order"]
        self.sent[(order["number"], "PENDING")] = started
        return order["id"], order["number"]

    async def move(self, mutation: str, order: tuple[str, str], to: str) -> None:
        self.sent[(order[1], to)] = time.monotonic()
        await self._call(mutation, {"input": {"id": order[0]}})

    async def submit(self, order: tuple[str, str]) -> None:
        await self.move(SUBMIT, order, "AWAITING_PAYMENT")

    async def cancel(self, order: tuple[str, str]) -> None:
        await self.move(CANCEL, order, "CANCELLED")


def latencies(subscribers: list[Subscriber], key: Key, sent: float) -> tuple[list[float], int]:
    """Milliseconds from sending to each subscriber's receipt; and how many never received it."""
    values = [(s.arrivals[key] - sent) * 1000 for s in subscribers if key in s.arrivals]
    return values, len(subscribers) - len(values)


async def wait_delivered(subscribers: list[Subscriber], keys: list[Key], within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if all(key in s.arrivals for s in subscribers for key in keys):
            return True
        await asyncio.sleep(0.02)
    return False


def line_of(label: str, values: list[float], missed: int = 0) -> str:
    if not values:
        return f"{label}: nothing delivered ({missed} missing)"
    text = (
        f"{label}: p50 {percentile(values, 0.5):8.1f} ms  p99 {percentile(values, 0.99):8.1f} ms  "
        f"max {max(values):8.1f} ms  ({len(values)} deliveries"
    )
    return text + (f", {missed} MISSING)" if missed else ")")


# ---- the run --------------------------------------------------------------------------------


async def run(args: argparse.Namespace, base: Path) -> int:
    postgres = PostgresServer(base / "postgres")
    redis = RedisServer(base / "redis")
    server: LiveServer | None = None
    subscribers: list[Subscriber] = []
    try:
        postgres.start()
        redis.start()
        settings = Settings(database_url=postgres.url, broadcast_url=redis.url, jwt_signing_key=SIGNING_KEY)
        await asyncio.to_thread(migrate, settings)  # Alembic runs its own event loop
        print(f"seeding {args.subscribers} staff accounts ...", flush=True)
        data = await seed(settings, args.subscribers)
        env = server_env(
            settings.database_url,
            settings.broadcast_url,
            SIGNING_KEY,
            TENANTGRAPH_OUTBOX_POLL_SECONDS="1",
            TENANTGRAPH_LOG_LEVEL="WARNING",
        )
        server = LiveServer("fanout", base, env)
        server.spawn()
        await server.wait_healthy()
        if server.pid is None:
            raise RuntimeError("the server has no pid")
        pid = server.pid
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60.0) as http:
            shop = Shop(http, data)
            # Warm up: imports, compiled statements, one subscription's whole path.
            warm = await open_subscribers(server.ws_url, data.staff_tokens[:10])
            await asyncio.sleep(1.0)
            order = await shop.create()
            await wait_delivered(warm, [(order[1], "PENDING")], 30)
            await close_subscribers(warm)
            await asyncio.sleep(3.0)
            rss_before = rss_kib(pid)

            started = time.monotonic()
            subscribers = await open_subscribers(server.ws_url, data.staff_tokens)
            print(
                f"{len(subscribers)} subscribers connected in {time.monotonic() - started:.1f} s", flush=True
            )
            await asyncio.sleep(5.0)
            rss_idle = rss_kib(pid)
            per_subscription = (rss_idle - rss_before) / len(subscribers)

            # Every subscription is registered once the first event reaches all of them.
            first = await shop.create()
            if not await wait_delivered(subscribers, [(first[1], "PENDING")], 120):
                values, missed = latencies(
                    subscribers, (first[1], "PENDING"), shop.sent[(first[1], "PENDING")]
                )
                print(f"warning: first event reached {len(values)} of {len(subscribers)} within 120 s")
            await asyncio.sleep(1.0)

            # One event at a time.
            one: list[float] = []
            one_missed = 0
            print(f"\none event to {len(subscribers)} subscribers ({args.rounds} rounds):")
            orders = [await shop.create() for _ in range(args.rounds)]
            await wait_delivered(subscribers, [(o[1], "PENDING") for o in orders], 120)
            await asyncio.sleep(1.0)
            for n, order in enumerate(orders, 1):
                shop.round_trips.clear()
                await shop.submit(order)
                key = (order[1], "AWAITING_PAYMENT")
                await wait_delivered(subscribers, [key], args.drain)
                values, missed = latencies(subscribers, key, shop.sent[key])
                one += values
                one_missed += missed
                print(
                    "  "
                    + line_of(f"round {n}", values, missed)
                    + f"  mutation {shop.round_trips[0] * 1000:.0f} ms"
                )
                await asyncio.sleep(1.0)
            print("  " + line_of("all rounds", one, one_missed))

            # A steady rate.
            print(f"\n{args.rate:g} events/s to {len(subscribers)} subscribers for {args.duration:g} s:")
            keys: list[tuple[Key, float]] = []
            shop.round_trips.clear()
            sent_before = set(shop.sent)
            phase_start = time.monotonic()
            chains: list[asyncio.Task[None]] = []

            async def chain(at: float) -> None:
                # create at t, submit at t + 1/rate, cancel at t + 2/rate: three events.
                step = 1.0 / args.rate
                await asyncio.sleep(max(0.0, at - time.monotonic()))
                order = await shop.create()
                await asyncio.sleep(max(0.0, at + step - time.monotonic()))
                await shop.submit(order)
                await asyncio.sleep(max(0.0, at + 2 * step - time.monotonic()))
                await shop.cancel(order)

            chain_count = int(args.duration * args.rate / 3)
            for n in range(chain_count):
                chains.append(asyncio.create_task(chain(phase_start + n * 3.0 / args.rate)))
            await asyncio.gather(*chains)
            made = [k for k in shop.sent if k not in sent_before]
            await wait_delivered(subscribers, made, args.drain)
            keys = sorted(((k, shop.sent[k]) for k in made), key=lambda item: item[1])
            last_window_index = max(0, int(args.duration // WINDOW_SECONDS) - 1)
            windows: dict[int, list[float]] = defaultdict(list)
            window_missed: dict[int, int] = defaultdict(int)
            for key, sent in keys:
                values, missed = latencies(subscribers, key, sent)
                # The last chain's last steps may fall just past the end: counted in the last window.
                window = min(int((sent - phase_start) // WINDOW_SECONDS), last_window_index)
                windows[window] += values
                window_missed[window] += missed
            for window in sorted(windows):
                label = f"{window * WINDOW_SECONDS:3.0f}-{(window + 1) * WINDOW_SECONDS:3.0f} s"
                print("  " + line_of(label, windows[window], window_missed[window]))
            rate_achieved = len(keys) / max(1e-9, (max(s for _, s in keys) - phase_start) if keys else 1)
            print(
                f"  events sent: {len(keys)} (~{rate_achieved:.1f}/s), mutation round trip "
                f"p50 {statistics.median(shop.round_trips) * 1000:.0f} ms"
            )
            errors = sum(len(s.errors) for s in subscribers)
            error_sample = next((e for s in subscribers for e in s.errors), None)

            rss_loaded = rss_kib(pid)
            await close_subscribers(subscribers)
            subscribers = []
            await asyncio.sleep(args.settle)
            rss_after = rss_kib(pid)

        first_window, last_window = windows[min(windows)], windows[max(windows)]
        back = (rss_after - rss_before) / rss_before
        verdicts = {
            "one event": percentile(one, 0.99) <= TARGET_P99_MS,
            # "No growing latency": the last window's p50 and p99 within 1.5x (or 20 ms) of the first's.
            "steady": all(
                percentile(last_window, q)
                <= max(percentile(first_window, q) * 1.5, percentile(first_window, q) + 20)
                for q in (0.5, 0.99)
            ),
            "idle RSS": per_subscription <= TARGET_KIB_PER_SUBSCRIPTION,
            "RSS back": abs(back) <= TARGET_RSS_RETURN,
        }
        mark = {name: "ok" if passed else "MISSED" for name, passed in verdicts.items()}
        print("\nsummary")
        print(
            f"  one event to {args.subscribers}: p50 {percentile(one, 0.5):.1f} ms, "
            f"p99 {percentile(one, 0.99):.1f} ms (target p99 <= {TARGET_P99_MS:.0f} ms: {mark['one event']})"
        )
        print(
            f"  {args.rate:g} events/s: first 10 s p50 {percentile(first_window, 0.5):.1f} / "
            f"p99 {percentile(first_window, 0.99):.1f} ms, "
            f"last 10 s p50 {percentile(last_window, 0.5):.1f} / p99 {percentile(last_window, 0.99):.1f} ms "
            f"(target no growth: {mark['steady']})"
        )
        print(
            f"  RSS: {rss_before / 1024:.1f} MiB before, {rss_idle / 1024:.1f} MiB with "
            f"{args.subscribers} idle subscriptions = {per_subscription:.1f} KiB each "
            f"(target <= {TARGET_KIB_PER_SUBSCRIPTION:.0f}: {mark['idle RSS']})"
        )
        print(
            f"  RSS: {rss_loaded / 1024:.1f} MiB after the load, {rss_after / 1024:.1f} MiB "
            f"{args.settle:g} s after all disconnected = {back * 100:+.1f} % of before "
            f"(target within {TARGET_RSS_RETURN * 100:.0f} %: {mark['RSS back']})"
        )
        print(f"  subscription errors: {errors}")
        if error_sample is not None:
            print(f"  first error: {json.dumps(error_sample)[:500]}")
        return 0
    finally:
        if subscribers:
            await close_subscribers(subscribers)
        if server is not None:
            server.stop()
        redis.stop()
        postgres.stop()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscribers", "-n", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of the steady-rate phase")
    parser.add_argument("--rate", type=float, default=10.0, help="events per second in the steady phase")
    parser.add_argument("--rounds", type=int, default=5, help="single events, one at a time")
    parser.add_argument("--drain", type=float, default=60.0, help="seconds to wait for late deliveries")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds after disconnecting before RSS")
    args = parser.parse_args()
    raise_open_files_limit(2 * args.subscribers + 512)
    with tempfile.TemporaryDirectory(prefix="tg-fanout-") as base:
        return asyncio.run(run(args, Path(base)))


if __name__ == "__main__":
    sys.exit(main())
