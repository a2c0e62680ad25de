"""The printed result: a machine line, one table row per operation and server, the issue's budgets
with PASS/FAIL; and the JSON kept per worker count (for "two workers >= 1.7x one")."""

from __future__ import annotations

import json
import os
import platform
import statistics
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.load import SqlCount, WrkResult
from bench.operations import Operation

OURS = "ours"
THEIRS = "PostGraphile"
P99_OVER_P50 = 3.0
WORKER_SCALING = 1.7


@dataclass
class Figures:
    """One server's figures for one operation."""

    rounds: list[WrkResult] = field(default_factory=list)
    sql: SqlCount | None = None
    peak_rss_kib: int = 0

    @property
    def rps(self) -> float:
        return statistics.mean(r.rps for r in self.rounds) if self.rounds else 0.0

    @property
    def p50(self) -> float:
        return statistics.mean(r.p50_ms for r in self.rounds) if self.rounds else 0.0

    @property
    def p99(self) -> float:
        return statistics.mean(r.p99_ms for r in self.rounds) if self.rounds else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "rps": [r.rps for r in self.rounds],
            "p50_ms": [r.p50_ms for r in self.rounds],
            "p99_ms": [r.p99_ms for r in self.rounds],
            "errors": [r.errors for r in self.rounds],
            "sql": asdict(self.sql) if self.sql else None,
            "peak_rss_kib": self.peak_rss_kib,
        }


def machine_line(versions: dict[str, str]) -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    tools = ", ".join(f"{name} {version}" for name, version in versions.items())
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"machine: {model}, {os.cpu_count()} cores, {memory:.0f} GiB, Linux {platform.release()}, "
        f"load average {load} at the end; {now}; {tools}"
    )


def _fmt_rps(figures: Figures) -> str:
    return " / ".join(f"{r.rps:,.0f}" for r in figures.rounds) or "-"


def _row(op: Operation, server: str, figures: Figures, ratio: str) -> str:
    sql = figures.sql
    cells = [
        f"{op.key} {op.title}" if server == OURS else "",
        server,
        _fmt_rps(figures),
        f"{figures.p50:.1f}" if figures.rounds else "-",
        f"{figures.p99:.1f}" if figures.rounds else "-",
        str(sum(r.errors for r in figures.rounds)) if figures.rounds else "-",
        f"{sql.per_request:.2f}" if sql else "-",
        f"{sql.utility_per_request:.2f}" if sql else "-",
        f"{sql.serial_p50_ms:.1f}" if sql else "-",
        f"{sql.db_ms_per_request:.1f}" if sql else "-",
        f"{figures.peak_rss_kib / 1024:.0f}" if figures.peak_rss_kib else "-",
        ratio,
    ]
    return "| " + " | ".join(cells) + " |"


def table(ops: list[Operation], results: dict[str, dict[str, Figures]], workers: int) -> list[str]:
    lines = [
        "| operation | server | RPS (per round) | p50 ms | p99 ms | errors | SQL/req | utility/req "
        "| serial p50 ms | DB ms/req | peak RSS MiB | ours/PG |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for op in ops:
        figures = results.get(op.key, {})
        ours, theirs = figures.get(OURS), figures.get(THEIRS)
        if ours is None:
            continue
        ratio = "-"
        if theirs is not None and theirs.rps > 0:
            ratio = f"{ours.rps / theirs.rps:.2f}"
            if workers > 1:
                ratio += f" ({ours.rps / theirs.rps / workers:.2f}/worker)"
        lines.append(_row(op, OURS, ours, ratio))
        if theirs is not None:
            lines.append(_row(op, THEIRS, theirs, ""))
    return lines


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def budgets(
    ops: list[Operation],
    results: dict[str, dict[str, Figures]],
    workers: int,
    other_run: dict[str, Any] | None,
) -> list[str]:
    """The issue's budgets for what was measured; ``other_run`` is the saved run with the other
    worker count (1 or 2) at the same scale, for the scaling budget."""
    lines = ["| budget | measured | |", "|---|---:|---|"]
    for op in ops:
        figures = results.get(op.key, {})
        ours, theirs = figures.get(OURS), figures.get(THEIRS)
        if ours is None:
            continue
        if op.ratio_budget is not None and theirs is not None and theirs.rps > 0:
            per_worker = ours.rps / theirs.rps / workers
            lines.append(
                f"| {op.key}: ours per worker >= {op.ratio_budget}x PostGraphile | {per_worker:.2f}x | "
                f"{_verdict(per_worker >= op.ratio_budget)} |"
            )
        if op.levels is not None and ours.sql is not None:
            limit = op.levels + 1
            lines.append(
                f"| {op.key}: SQL/request <= {limit} ({op.levels} relation levels + 1) | "
                f"{ours.sql.per_request:.2f} | {_verdict(ours.sql.per_request <= limit)} |"
            )
            lines.append(
                f"| {op.key}: transactions/request <= 1 | {ours.sql.transactions_per_request:.2f} | "
                f"{_verdict(ours.sql.transactions_per_request <= 1)} |"
            )
        if ours.rounds and ours.p50 > 0:
            spread = ours.p99 / ours.p50
            lines.append(
                f"| {op.key}: p99 <= {P99_OVER_P50:.0f}x p50 under load | {spread:.1f}x | "
                f"{_verdict(spread <= P99_OVER_P50)} |"
            )
        lines.append(_scaling(op, ours, workers, other_run))
    return [line for line in lines if line]


def _scaling(op: Operation, ours: Figures, workers: int, other_run: dict[str, Any] | None) -> str:
    if other_run is None or workers not in (1, 2) or not ours.rounds:
        return ""
    other = (other_run["results"].get(op.key) or {}).get(OURS)
    if not other or not other["rps"]:
        return ""
    other_rps = statistics.mean(other["rps"])
    one, two = (ours.rps, other_rps) if workers == 1 else (other_rps, ours.rps)
    if one <= 0:
        return ""
    factor = two / one
    return (
        f"| {op.key}: two workers >= {WORKER_SCALING}x one (other run {other_run['date']}) | "
        f"{factor:.2f}x | {_verdict(factor >= WORKER_SCALING)} |"
    )


def save(path: Path, meta: dict[str, Any], results: dict[str, dict[str, Figures]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        **meta,
        "results": {
            key: {name: f.as_json() for name, f in servers.items()} for key, servers in results.items()
        },
    }
    path.write_text(json.dumps(data, indent=1))


def load(path: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data
