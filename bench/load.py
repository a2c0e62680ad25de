"""Loading a server: wrk with a generated Lua script for a fixed time and connection count; serial
requests (latency, and SQL statements counted exactly with pg_stat_statements)."""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

import httpx

from bench.operations import ADD_TO_CART, CREATE_ORDER, SUBMIT_ORDER, Request, gid, mutation_errors
from bench.processes import pdeathsig
from tests.harness.servers import PostgresServer

BENCH = Path(__file__).resolve().parent
SERIAL_REQUESTS = 100
SERIAL_WARMUP = 5
# pg_stat_statements keeps utility statements with their text; these are not "SQL" of a request.
UTILITY = re.compile(
    r"^\s*(BEGIN|START|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE|SET|RESET|SHOW|DISCARD|DEALLOCATE"
    r"|LISTEN|UNLISTEN|CLOSE|DECLARE|FETCH|PREPARE|EXECUTE)\b",
    re.IGNORECASE,
)
TRANSACTION = re.compile(r"^\s*(BEGIN|START)\b", re.IGNORECASE)


def lua(value: Any) -> str:
    """``value`` (str, int, float, bool, list, dict) as a Lua expression."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
        return f'"{escaped}"'
    if isinstance(value, list):
        return "{" + ", ".join(lua(item) for item in value) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{lua(str(k))}] = {lua(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no Lua form for {type(value).__name__}")


def write_script(path: Path, template: str, table: dict[str, Any]) -> Path:
    parts = [
        f"BENCH = {lua(table)}\n",
        (BENCH / "wrk_common.lua").read_text(),
        (BENCH / template).read_text(),
    ]
    path.write_text("\n".join(parts))
    return path


@dataclass
class Mix:
    """M1's three mutations for the shoppers (token, user global id) over products (global ids)."""

    tokens: list[str]
    users: list[str]
    products: list[str]

    def lua_table(self, nonce: str) -> dict[str, Any]:
        def body(query: str) -> str:
            # JSON first, then the %s placeholders of string.format (no other % occurs).
            return json.dumps({"query": query.replace("%s", "@@S@@")}).replace("@@S@@", "%s")

        return {
            "path": "/graphql",
            "tokens": self.tokens,
            "shoppers": {user: index + 1 for index, user in enumerate(self.users)},
            "products": self.products,
            "nonce": nonce,
            "add": body(ADD_TO_CART),
            "create": body(CREATE_ORDER),
            "submit": body(SUBMIT_ORDER),
        }

    def serial(self, client: httpx.Client, url: str, nonce: str) -> Iterator[list[str]]:
        """Endless add -> create -> submit cycles, yielding each response's problems."""
        for n in count():
            k = n % len(self.tokens)
            headers = {"Authorization": f"Bearer {self.tokens[k]}"}
            product = self.products[n % len(self.products)]
            yield mutation_errors(post(client, url, Request(ADD_TO_CART % product), headers))
            created = post(client, url, Request(CREATE_ORDER % (product, f"{nonce}-s-{n}")), headers)
            yield mutation_errors(created)
            order = ((created.get("data") or {}).get("createOrder") or {}).get("order") or {}
            yield mutation_errors(post(client, url, Request(SUBMIT_ORDER % order.get("id", "")), headers))


def post(client: httpx.Client, url: str, request: Request, headers: dict[str, str]) -> Any:
    response = client.post(
        url, content=request.body(), headers={"Content-Type": "application/json", **headers}
    )
    try:
        body = response.json()
    except ValueError:
        body = {"errors": [{"message": f"HTTP {response.status_code}: {response.text[:200]}"}]}
    if response.status_code != 200 and not body.get("errors"):
        body["errors"] = [{"message": f"HTTP {response.status_code}"}]
    return body


@dataclass
class WrkResult:
    rps: float
    requests: int
    p50_ms: float
    p99_ms: float
    errors: int
    raw: dict[str, Any]


def run_wrk(url: str, script: Path, connections: int, seconds: int) -> WrkResult:
    cmd = [
        *pdeathsig(),
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
        url,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 90, check=False)
    line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH_RESULT ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stdout[-1500:]}\n{out.stderr[-1500:]}")
    raw = json.loads(line.removeprefix("BENCH_RESULT "))
    socket_errors = sum(raw[k] for k in ("connect", "read", "write", "timeout"))
    return WrkResult(
        rps=raw["requests"] / (raw["duration_us"] / 1e6),
        requests=raw["requests"],
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        errors=raw["bad"] + socket_errors,
        raw=raw,
    )


@dataclass
class SqlCount:
    per_request: float
    utility_per_request: float
    transactions_per_request: float
    serial_p50_ms: float
    serial_errors: int
    # Time PostgreSQL spent executing the request's statements (pg_stat_statements).
    db_ms_per_request: float = 0.0
    # (calls, mean ms, statement) of the statements with the most time, for reading plans.
    top: list[tuple[int, float, str]] = field(default_factory=list)


def _statements(pg: PostgresServer, database: str) -> list[tuple[str, int, float]]:
    """(statement, calls, total ms) of ``database`` since the last reset."""
    text = pg.psql(
        "SELECT coalesce(json_agg(json_build_array(s.query, s.calls, s.total_exec_time)), '[]') "
        f"FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '{database}'"
    )
    return [(query, int(calls), float(ms)) for query, calls, ms in json.loads(text or "[]")]


def count_sql(
    pg: PostgresServer, database: str, one_request: Callable[[], list[str]], requests: int = SERIAL_REQUESTS
) -> SqlCount:
    """Runs ``one_request`` (which returns its problems) serially: a few to warm up, then
    ``requests`` between a pg_stat_statements reset and a read of the calls."""
    for _ in range(SERIAL_WARMUP):
        one_request()
    pg.psql("SELECT pg_stat_statements_reset()")
    latencies, errors = [], 0
    for _ in range(requests):
        started = time.perf_counter()
        errors += bool(one_request())
        latencies.append(time.perf_counter() - started)
    time.sleep(0.3)  # statements finishing after the response (none expected) are counted too
    rows = _statements(pg, database)
    utility = sum(calls for query, calls, _ in rows if UTILITY.match(query))
    transactions = sum(calls for query, calls, _ in rows if TRANSACTION.match(query))
    sql = sum(calls for query, calls, _ in rows if not UTILITY.match(query))
    by_time = sorted(rows, key=lambda row: row[2], reverse=True)[:8]
    top = [(calls, round(ms / calls, 3), " ".join(query.split())[:2000]) for query, calls, ms in by_time]
    return SqlCount(
        per_request=sql / requests,
        utility_per_request=utility / requests,
        transactions_per_request=transactions / requests,
        serial_p50_ms=statistics.median(latencies) * 1000,
        serial_errors=errors,
        db_ms_per_request=sum(ms for _, _, ms in rows) / requests,
        top=top,
    )


def fixed_request(
    client: httpx.Client, url: str, request: Request, headers: dict[str, str]
) -> Callable[[], list[str]]:
    def one() -> list[str]:
        body = post(client, url, request, headers)
        return [str(e.get("message")) for e in body.get("errors") or []]

    return one


__all__ = ["Mix", "SqlCount", "WrkResult", "count_sql", "fixed_request", "gid", "run_wrk", "write_script"]
