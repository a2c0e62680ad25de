"""BIND zone files: a zone's export (SOA, its assigned NS, every record), and the import of one.

The import reads the master-file format (RFC 1035 section 5): comments, parentheses over several
lines, ``$ORIGIN`` and ``$TTL``, an owner left blank for the previous one, TTL and class in either
order. Each record's data is parsed by dnspython against the current origin. Every line at fault
is reported (``input.zoneFile.<line>``, then the field: ``input.zoneFile.7.content``); the
zone's SOA and apex NS are managed here, so those lines are skipped."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.ttl
from sqlalchemy import select

from core.errors import FieldProblem, InvalidInput, NotFound, invalid
from models.dns import DnsRecord, DnsRecordType, DnsZone
from services.context import ServiceContext
from services.dns.access import read_scope
from services.dns.errors import DnsErrorCode
from services.dns.names import APEX
from services.dns.record_writes import Applied, Changes, change_records, value_of
from services.dns.records import MAX_RECORDS_PER_ZONE, RecordDraft, rdata_text

MAX_ZONE_FILE = 20_000  # characters (the request-wide string backstop)
MAX_REPORTED = 50  # problems at most, of a file full of them


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    inherits_owner: bool
    text: str


def _logical_lines(text: str) -> Iterator[_Line]:
    """Comments stripped (outside quotes), parenthesised groups joined into one line."""
    depth, quoted, start, inherits = 0, False, 0, False
    parts: list[str] = []
    for number, physical in enumerate(text.splitlines(), start=1):
        if depth == 0:
            start, parts = number, []
            inherits = physical[:1] in (" ", "\t")
        kept, escaped = [], False
        for char in physical:
            if escaped:
                kept.append(char)
                escaped = False
            elif char == "\\":
                kept.append(char)
                escaped = True
            elif char == '"':
                quoted = not quoted
                kept.append(char)
            elif quoted:
                kept.append(char)
            elif char == ";":
                break
            elif char in "()":
                depth += 1 if char == "(" else -1
                kept.append(" ")
            else:
                kept.append(char)
        quoted = False
        parts.append("".join(kept))
        if depth <= 0:
            depth = 0
            joined = " ".join(parts).strip()
            if joined:
                yield _Line(start, inherits, joined)
    if depth > 0:
        yield _Line(start, False, "(")  # an unclosed parenthesis: reported as a syntax error


def _head(text: str) -> tuple[str, str]:
    parts = text.split(None, 1)
    return parts[0], parts[1] if len(parts) > 1 else ""


def _draft(kind: DnsRecordType, owner: str, ttl: int | None, rdata: dns.rdata.Rdata) -> RecordDraft:
    r: dns.rdata.Rdata = rdata
    data: dict[str, object] = {}
    if kind in (DnsRecordType.A, DnsRecordType.AAAA):
        data["content"] = r.address  # type: ignore[attr-defined]
    elif kind in (DnsRecordType.CNAME, DnsRecordType.NS, DnsRecordType.PTR):
        data["content"] = r.target.to_text()  # type: ignore[attr-defined]
    elif kind == DnsRecordType.MX:
        data.update(content=r.exchange.to_text(), priority=r.preference)  # type: ignore[attr-defined]
    elif kind == DnsRecordType.SRV:
        target = r.target.to_text()  # type: ignore[attr-defined]
        data.update(content=target, priority=r.priority, weight=r.weight, port=r.port)  # type: ignore[attr-defined]
    elif kind == DnsRecordType.TXT:
        data["content"] = b"".join(r.strings).decode("utf-8", "replace")  # type: ignore[attr-defined]
    elif kind == DnsRecordType.CAA:
        data.update(content=r.value.decode(), flags=r.flags, tag=r.tag.decode())  # type: ignore[attr-defined]
    return RecordDraft(type=kind, name=owner, ttl=ttl, **data)  # type: ignore[arg-type]


class _Reader:
    def __init__(self, zone: DnsZone) -> None:
        self.zone = zone
        self.origin = dns.name.from_text(zone.name + ".")
        self.default_ttl: int | None = None
        self.owner: dns.name.Name | None = None
        self.problems: list[FieldProblem] = []
        self.records: list[tuple[str, RecordDraft]] = []

    def fail(self, line: int, code: DnsErrorCode, message: str) -> None:
        self.problems.append(FieldProblem(("input", "zoneFile", str(line)), code, f"Line {line}: {message}"))

    def directive(self, line: _Line) -> None:
        word, rest = _head(line.text)
        try:
            if word.upper() == "$ORIGIN":
                self.origin = dns.name.from_text(rest.strip(), origin=self.origin)
            elif word.upper() == "$TTL":
                self.default_ttl = dns.ttl.from_text(rest.strip())
            else:
                self.fail(line.number, DnsErrorCode.ZONE_FILE_SYNTAX, f"{word} is not supported here.")
        except (dns.exception.DNSException, ValueError) as exc:
            self.fail(line.number, DnsErrorCode.ZONE_FILE_SYNTAX, f"{word}: {exc}")

    def record(self, line: _Line) -> None:
        rest = line.text
        if not line.inherits_owner:
            owner_text, rest = _head(rest)
            self.owner = (
                self.origin if owner_text == "@" else dns.name.from_text(owner_text, origin=self.origin)
            )
        if self.owner is None:
            raise ValueError("the first record names its owner")
        ttl: int | None = None
        word, rest = _head(rest)
        for _ in range(2):  # TTL and class, in either order
            if word.upper() == "IN":
                word, rest = _head(rest)
            elif word[:1].isdigit():
                ttl = dns.ttl.from_text(word)
                word, rest = _head(rest)
        if word.upper() in ("CH", "HS", "CS"):
            raise ValueError("only class IN is served")
        kind = word.upper()
        if kind == "SOA" or (kind == "NS" and self.owner == dns.name.from_text(self.zone.name + ".")):
            return  # managed by the zone itself
        if kind not in DnsRecordType.__members__:
            self.fail(
                line.number, DnsErrorCode.UNSUPPORTED_TYPE, f"{kind or 'a record type'} is not supported."
            )
            return
        rdata = dns.rdata.from_text(
            dns.rdataclass.IN, dns.rdatatype.from_text(kind), rest, origin=self.origin, relativize=False
        )
        draft = _draft(DnsRecordType(kind), self.owner.to_text(), ttl or self.default_ttl, rdata)
        self.records.append((f"zoneFile.{line.number}", draft))

    def read(self, text: str) -> None:
        for line in _logical_lines(text):
            if len(self.problems) >= MAX_REPORTED:
                return
            if line.text.startswith("$"):
                self.directive(line)
                continue
            try:
                self.record(line)
            except (dns.exception.DNSException, ValueError, UnicodeError) as exc:
                self.fail(line.number, DnsErrorCode.ZONE_FILE_SYNTAX, str(exc) or "the record is malformed")


async def import_zone_file(ctx: ServiceContext, zone_id: uuid.UUID, text: str, replace_all: bool) -> Applied:
    """Adds the file's records to the zone (or, ``replace_all``, replaces them), all or nothing."""
    if len(text) > MAX_ZONE_FILE:
        raise invalid(
            "zoneFile",
            DnsErrorCode.ZONE_FILE_TOO_LARGE,
            f"A zone file is at most {MAX_ZONE_FILE} characters.",
        )
    async with ctx.read(read_scope(ctx)) as session:
        zone = await session.get(DnsZone, zone_id)
    if zone is None:
        raise NotFound("DnsZone")
    reader = _Reader(zone)
    reader.read(text)
    if reader.problems:
        raise InvalidInput(*reader.problems)
    if len(reader.records) > MAX_RECORDS_PER_ZONE:
        raise invalid(
            "zoneFile", DnsErrorCode.TOO_MANY_RECORDS, f"A zone holds at most {MAX_RECORDS_PER_ZONE} records."
        )
    return await change_records(ctx, zone_id, Changes(create=reader.records, replace_all=replace_all))


def _owner(name: str) -> str:
    return APEX if name == APEX else name


def render_zone(zone: DnsZone, records: list[DnsRecord]) -> str:
    """The zone in BIND master-file format."""
    lines = [
        f"; {zone.name} exported by tenantgraph, serial {zone.serial}",
        f"$ORIGIN {zone.name}.",
        f"$TTL {zone.default_ttl}",
        f"@ {zone.default_ttl} IN SOA {zone.soa_mname}. {zone.soa_rname}. ("
        f" {zone.serial} {zone.refresh} {zone.retry} {zone.expire} {zone.minimum} )",
    ]
    lines += [f"@ {zone.default_ttl} IN NS {nameserver}." for nameserver in zone.nameservers]
    ordered = sorted(records, key=lambda r: (r.name != APEX, r.name, r.type.value, r.content))
    for record in ordered:
        lines.append(
            f"{_owner(record.name)} {record.ttl} IN {record.type.value} {rdata_text(value_of(record))}"
        )
    return "\n".join(lines) + "\n"


async def export_zone(ctx: ServiceContext, zone_id: uuid.UUID) -> tuple[DnsZone, str]:
    """The zone and its file; NotFound when it is missing or another tenant's."""
    async with ctx.read(read_scope(ctx)) as session:
        zone = await session.get(DnsZone, zone_id)
        if zone is None:
            raise NotFound("DnsZone")
        records = list(await session.scalars(select(DnsRecord).where(DnsRecord.zone_id == zone.id)))
    return zone, render_zone(zone, records)
