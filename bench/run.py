"""The side-by-side benchmark of issue 7: our server and PostGraphile 5 over one PostgreSQL database.

    bash bench/run.sh [--scale N] [--workers N] [--duration S] [--smoke]

Starts a throwaway PostgreSQL (pg_stat_statements) and Redis, migrates and fills the database
(bench/dataset.py), starts our server with N workers and PostGraphile, checks that every pair of
operations returns the same rows (a pair that differs is not measured, and the run exits 1),
counts SQL statements over 100 serial requests, loads each operation with wrk (interleaved,
ours then PostGraphile, for each round) and prints the table and the budgets. Everything it starts
is stopped at the end, on errors and on SIGTERM/SIGINT. Budget misses never fail the run."""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from bench import dataset, load, operations, processes, report
from bench.dataset import Dataset, Sizes
from bench.operations import Operation, Request, gid
from bench.processes import NODE, ROOT, Processes, Service, StartFailed, our_settings
from bench.report import OURS, THEIRS, Figures
from core.settings import Settings
from server.cli import migrate

DATABASE = "bench"
RESULTS = ROOT / "bench" / ".work"


@dataclass
class Plan:
    sizes: Sizes
    label: str
    workers: int
    connections: int
    warmup: int
    duration: int
    rounds: int
    serial: int
    only: set[str] | None


def parse(argv: list[str] | None) -> Plan:
    parser = argparse.ArgumentParser(
        prog="bench/run.sh", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=int, default=1, help="multiply users, products, orders (default 1)")
    parser.add_argument("--workers", type=int, default=1, help="our server's processes (default 1)")
    parser.add_argument("--duration", type=int, default=None, help="seconds of load per operation (10)")
    parser.add_argument("--warmup", type=int, default=None, help="seconds of warm-up before each (3)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (2)")
    parser.add_argument("--only", help="comma-separated operations, e.g. Q1,Q3")
    parser.add_argument("--smoke", action="store_true", help="tiny data, 1 s per operation, one round")
    args = parser.parse_args(argv)
    if args.scale < 1 or args.workers < 1 or args.connections < 1:
        parser.error("--scale, --workers and --connections are 1 or more")
    smoke = args.smoke
    return Plan(
        sizes=Sizes.smoke() if smoke else Sizes.reference(args.scale),
        label="smoke" if smoke else f"scale{args.scale}",
        workers=args.workers,
        connections=args.connections,
        warmup=args.warmup if args.warmup is not None else (1 if smoke else 3),
        duration=args.duration if args.duration is not None else (1 if smoke else 10),
        rounds=args.rounds if args.rounds is not None else (1 if smoke else 2),
        serial=20 if smoke else load.SERIAL_REQUESTS,
        only={key.strip() for key in args.only.split(",")} if args.only else None,
    )


def say(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def _stop_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def sign_in(client: httpx.Client, url: str, slug: str, email: str) -> tuple[str, str]:
    """(access token, user global id) of a bench account."""
    query = (
        f'mutation {{ login(input: {{tenantSlug: "{slug}", email: "{email}", '
        f'password: "{dataset.PASSWORD}"}}) {{ accessToken user {{ id }} userErrors {{ code message }} }} }}'
    )
    body = load.post(client, url, Request(query), {})
    payload = (body.get("data") or {}).get("login") or {}
    if not payload.get("accessToken"):
        raise StartFailed(f"login of {email} failed: {json.dumps(body)[:500]}")
    return payload["accessToken"], payload["user"]["id"]


def versions(pg_version: str) -> dict[str, str]:
    def first_line(cmd: list[str]) -> str:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
        return (
            (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr).strip() else "?"
        )

    package = json.loads((ROOT / "bench/node_modules/postgraphile/package.json").read_text())
    wrk = first_line(["wrk", "-v"]).split()
    return {
        "PostgreSQL": pg_version,
        "PostGraphile": f"{package['version']} (Node {first_line([str(NODE), '--version'])})",
        "Python": sys.version.split()[0],
        "wrk": wrk[1] if len(wrk) > 1 and wrk[0] == "wrk" else "?",
    }


class Bench:
    def __init__(self, plan: Plan, work: Path, procs: Processes) -> None:
        self.plan, self.work, self.procs = plan, work, procs
        self.client = httpx.Client(timeout=60.0)
        self.results: dict[str, dict[str, Figures]] = {}
        self.mismatches: list[str] = []
        self.nonce = f"m1-{int(time.time())}"

    def start(self) -> Dataset:
        plan = self.plan
        say(f"starting PostgreSQL (pg_stat_statements) and Redis in {self.work}")
        self.pg, url = processes.start_postgres(self.work / "postgres", DATABASE)
        self.procs.others.append(self.pg)
        redis = processes.start_redis(self.work / "redis")
        self.procs.others.append(redis)
        say("migrating")
        migrate(Settings(database_url=url))
        say(f"filling: {plan.sizes}")
        started = time.monotonic()
        data = asyncio.run(dataset.fill(url, plan.sizes))
        self.pg.psql("VACUUM ANALYZE", DATABASE)
        say(f"filled in {time.monotonic() - started:.1f}s: {data.counts}")
        self.data = data
        say(f"starting our server ({plan.workers} worker(s)) and PostGraphile")
        starting = [processes.spawn_ours(our_settings(url, redis.url), plan.workers, self.work)]
        self.procs.services.append(starting[0].service)
        # PostGraphile has no tenant scope to give row-level security: it reads as the superuser.
        starting.append(processes.spawn_postgraphile(self.pg.superuser_url(DATABASE), self.work))
        self.procs.services.append(starting[1].service)
        self.ours = self._watch(starting[0].ready(), OURS)
        self.theirs = self._watch(starting[1].ready(), THEIRS)
        token, _ = sign_in(self.client, self.ours.url, dataset.PLATFORM_TENANT_SLUG, dataset.ADMIN_EMAIL)
        self.headers = {OURS: {"Authorization": f"Bearer {token}"}, THEIRS: {}}
        shoppers = [sign_in(self.client, self.ours.url, data.tenant_slugs[0], e) for e in data.shopper_emails]
        self.mix = load.Mix(
            tokens=[t for t, _ in shoppers],
            users=[u for _, u in shoppers],
            products=[gid("Product", p) for p in data.shopper_products[:50]],
        )
        self.versions = versions(self.pg.psql("SHOW server_version").split()[0])
        return data

    def _watch(self, service: Service, name: str) -> Service:
        self.procs.sampler.watch(name, service.proc.pid)
        return service

    def url(self, server: str) -> str:
        return self.ours.url if server == OURS else self.theirs.url

    def check(self, op: Operation) -> bool:
        """Ours (and PostGraphile's) answer once; False (and a note) when they differ."""
        if op.mix:
            cycle = self.mix.serial(self.client, self.ours.url, self.nonce)
            problems = [problem for _ in range(3) for problem in next(cycle)]
            return self._verdict(op, problems, None, None)
        ours = load.post(self.client, self.ours.url, op.ours, self.headers[OURS])
        errors = [str(e.get("message")) for e in ours.get("errors") or []]
        theirs: Any = None
        if op.theirs is not None:
            theirs = load.post(self.client, self.theirs.url, op.theirs, {})
            errors += [f"PostGraphile: {e.get('message')}" for e in theirs.get("errors") or []]
        if errors:
            return self._verdict(op, errors, None, None)
        try:
            mine = op.canon_ours(ours["data"])
            other = op.canon_theirs(theirs["data"]) if op.canon_theirs else op.expected
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            return self._verdict(
                op, [f"unexpected answer ({error!r}): {json.dumps([ours, theirs])[:300]}"], 0, 0
            )
        return self._verdict(op, [], mine, other)

    def _verdict(self, op: Operation, errors: list[str], mine: Any, other: Any) -> bool:
        if errors:
            note = f"{op.key}: errors {errors[:3]}"
        elif mine != other:
            dump = self.work / f"mismatch-{op.key}.json"
            dump.write_text(json.dumps({"ours": mine, "other": other}, indent=1, default=str))
            note = f"{op.key}: different rows (both normalised answers in {dump})"
        else:
            say(f"{op.key}: same rows" if op.theirs else f"{op.key}: answer as expected")
            return True
        say(f"NOT MEASURED {note}")
        self.mismatches.append(note)
        return False

    def servers(self, op: Operation) -> list[str]:
        return [OURS, THEIRS] if op.theirs is not None else [OURS]

    def one_request(self, op: Operation, server: str) -> Any:
        if op.mix:
            cycle = self.mix.serial(self.client, self.ours.url, self.nonce + "-count")
            return lambda: next(cycle)
        request = op.ours if server == OURS else op.theirs
        if request is None:
            raise ValueError(f"{op.key} has no request for {server}")
        return load.fixed_request(self.client, self.url(server), request, self.headers[server])

    def count(self, op: Operation) -> None:
        for server in self.servers(op):
            sql = load.count_sql(self.pg, DATABASE, self.one_request(op, server), self.plan.serial)
            self.results.setdefault(op.key, {}).setdefault(server, Figures()).sql = sql
            say(
                f"{op.key} {server}: {sql.per_request:.2f} SQL + {sql.utility_per_request:.2f} utility "
                f"per request, serial p50 {sql.serial_p50_ms:.1f} ms"
                + (f", {sql.serial_errors} errors" if sql.serial_errors else "")
            )

    def script(self, op: Operation, server: str) -> Path:
        path = self.work / f"wrk-{op.key}-{server}.lua"
        if op.mix:
            return load.write_script(
                path, "wrk_mix.lua", self.mix.lua_table(f"{self.nonce}-{time.time_ns()}")
            )
        request = op.ours if server == OURS else op.theirs
        if request is None:
            raise ValueError(f"{op.key} has no request for {server}")
        headers = {"Content-Type": "application/json", **self.headers[server]}
        return load.write_script(
            path, "wrk_read.lua", {"path": "/graphql", "body": request.body(), "headers": headers}
        )

    def load_round(self, op: Operation, round_no: int) -> None:
        plan = self.plan
        for server in self.servers(op):
            script = self.script(op, server)
            if plan.warmup > 0:
                load.run_wrk(self.url(server), script, plan.connections, plan.warmup)
            if op.mix:  # a fresh nonce: no idempotency key of the warm-up is replayed
                script = self.script(op, server)
            processes.wait_idle([self.ours.proc.pid, self.theirs.proc.pid, self.pg.pid or 0])
            self.procs.sampler.reset(server)
            result = load.run_wrk(self.url(server), script, plan.connections, plan.duration)
            figures = self.results.setdefault(op.key, {}).setdefault(server, Figures())
            figures.rounds.append(result)
            figures.peak_rss_kib = max(figures.peak_rss_kib, self.procs.sampler.peak(server))
            say(
                f"round {round_no} {op.key} {server}: {result.rps:,.1f} RPS, p50 {result.p50_ms:.1f} ms, "
                f"p99 {result.p99_ms:.1f} ms, {result.errors} errors"
                + (
                    " (sent: {add} addToCart, {create} createOrder, {submit} submitOrder)".format(
                        **result.raw["mix"]
                    )
                    if op.mix
                    else ""
                )
            )


# Measurements that are not request/response pairs (the S1 websocket fan-out of issue 7 is one)
# plug in here: each is called with the running bench (its PostgreSQL, our server, the data set)
# after the tables, and returns the lines it prints. Nothing is listed until one is added.
EXTRA_MEASUREMENTS: list[Callable[[Bench], list[str]]] = []


def run(plan: Plan, work: Path, procs: Processes) -> int:
    started = time.monotonic()
    bench = Bench(plan, work, procs)
    data = bench.start()
    ops = [op for op in operations.build(data) if plan.only is None or op.key in plan.only]
    measured = [op for op in ops if bench.check(op)]
    for op in measured:
        bench.count(op)
    for round_no in range(1, plan.rounds + 1):
        for op in measured:
            bench.load_round(op, round_no)
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "workers": plan.workers,
        "label": plan.label,
        "counts": data.counts,
        "mismatches": bench.mismatches,
    }
    if plan.only is None:  # a partial run does not replace the last whole one
        report.save(RESULTS / f"results-w{plan.workers}-{plan.label}.json", meta, bench.results)
    other = (
        report.load(RESULTS / f"results-w{3 - plan.workers}-{plan.label}.json")
        if plan.workers in (1, 2)
        else None
    )
    counts = ", ".join(f"{v:,} {k}" for k, v in data.counts.items() if k != "roles")
    print()
    print(report.machine_line(bench.versions))
    print(
        f"data: {counts}; wrk {plan.connections} connections, {plan.duration} s after "
        f"{plan.warmup} s warm-up, {plan.rounds} round(s) interleaved; ours: {plan.workers} worker(s)"
    )
    print()
    print("\n".join(report.table(ops, bench.results, plan.workers)))
    print()
    print("\n".join(report.budgets(ops, bench.results, plan.workers, other)))
    for measurement in EXTRA_MEASUREMENTS:
        print()
        print("\n".join(measurement(bench)))
    for note in bench.mismatches:
        print(f"NOT MEASURED {note}")
    print(f"\nbench finished in {time.monotonic() - started:.0f} s")
    return 1 if bench.mismatches else 0


def main(argv: list[str] | None = None) -> int:
    plan = parse(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    procs = Processes()
    work = Path(tempfile.mkdtemp(prefix="tgbench-"))
    code = 1
    try:
        code = run(plan, work, procs)
        return code
    except StartFailed as error:
        print(f"bench: a server failed to start: {error}", file=sys.stderr)
        code = 2
        return code
    finally:
        procs.close()
        if code == 0:
            shutil.rmtree(work, ignore_errors=True)
            say("stopped everything")
        else:
            say(f"stopped everything; logs and scripts kept in {work}")


if __name__ == "__main__":
    sys.exit(main())
