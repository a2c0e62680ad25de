"""Record rules: each type's fields checked and normalised (``normalise``), the rules over a zone's
whole record set (``set_problems``: CNAME exclusive at its name, never at the apex, no apex NS, no
duplicates), and each record's presentation (BIND) text.

Problems carry a field path below ``prefix`` ("" for a single record's input, "create.3" for the
fourth record a bulk call creates)."""

from __future__ import annotations

import ipaddress
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import dns.exception
import dns.rdata
import dns.rdataclass
import dns.rdatatype
from dns.rdtypes.ANY.TXT import TXT

from core.errors import FieldProblem, InvalidInput
from models.dns import DnsRecordType
from services.dns.errors import DnsErrorCode
from services.dns.names import APEX, BadName, NameOutsideZone, owner_name, target_name

MIN_TTL = 60
MAX_TTL = 86400
MAX_TEXT = 4000  # a TXT record's whole text (split into strings of at most 255 bytes)
MAX_TXT_STRING = 255
MAX_CAA_VALUE = 255
MAX_RECORDS_PER_ZONE = 1000
CAA_TAGS = ("issue", "issuewild", "iodef")
_CAA_ISSUER = re.compile(r"^(;|[a-z0-9.-]+(\s*;.*)?)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class RecordDraft:
    """A record as given (None: not given; the record type says what it needs)."""

    type: DnsRecordType
    name: str
    content: str
    ttl: int | None = None
    priority: int | None = None
    weight: int | None = None
    port: int | None = None
    flags: int | None = None
    tag: str | None = None


@dataclass(frozen=True, slots=True)
class RecordValue:
    """A record as stored: names relative to the zone and normalised, every field its type needs."""

    type: DnsRecordType
    name: str
    content: str
    ttl: int
    priority: int | None = None
    weight: int | None = None
    port: int | None = None
    flags: int | None = None
    tag: str | None = None

    def identity(self) -> tuple[object, ...]:
        """What makes two records the same record (the TTL aside)."""
        return (
            self.type,
            self.name,
            self.content,
            self.priority,
            self.weight,
            self.port,
            self.flags,
            self.tag,
        )


def _path(prefix: str, field: str) -> tuple[str, ...]:
    return ("input", *(prefix.split(".") if prefix else ()), field)


def problem(prefix: str, field: str, code: DnsErrorCode, message: str) -> FieldProblem:
    return FieldProblem(_path(prefix, field), code, message)


def _range(value: int | None, low: int, high: int) -> bool:
    return value is not None and low <= value <= high


class _Checker:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.problems: list[FieldProblem] = []

    def add(self, field: str, code: DnsErrorCode, message: str) -> None:
        self.problems.append(problem(self.prefix, field, code, message))


def _address(check: _Checker, draft: RecordDraft) -> str:
    version = 4 if draft.type == DnsRecordType.A else 6
    try:
        address = ipaddress.ip_address(draft.content.strip())
    except ValueError:
        address = None
    if address is None or address.version != version:
        check.add(
            "content", DnsErrorCode.INVALID_ADDRESS, f"An {draft.type} record holds an IPv{version} address."
        )
        return draft.content
    return address.compressed


def _target(check: _Checker, content: str, what: str) -> str:
    try:
        return target_name(content)
    except BadName as exc:
        check.add("content", DnsErrorCode.INVALID_TARGET, f"{what} is not a hostname: {exc}")
        return content


def _text(check: _Checker, content: str) -> str:
    if not content:
        check.add("content", DnsErrorCode.REQUIRED, "A TXT record holds some text.")
    elif len(content) > MAX_TEXT:
        check.add("content", DnsErrorCode.TOO_LONG, f"A TXT record holds at most {MAX_TEXT} characters.")
    elif any(ord(c) < 32 and c != "\t" for c in content):
        check.add(
            "content", DnsErrorCode.INVALID_TEXT, "TXT text cannot hold line breaks or control characters."
        )
    return content


def _caa(check: _Checker, draft: RecordDraft) -> tuple[str, int, str]:
    tag = (draft.tag or "").strip().lower()
    flags = 0 if draft.flags is None else draft.flags
    value = draft.content.strip()
    if flags not in (0, 128):
        check.add("flags", DnsErrorCode.INVALID_CAA, "CAA flags are 0, or 128 (issuer critical).")
    if tag not in CAA_TAGS:
        check.add("tag", DnsErrorCode.INVALID_CAA, "A CAA tag is issue, issuewild or iodef.")
    elif not value or len(value) > MAX_CAA_VALUE or '"' in value:
        check.add(
            "content", DnsErrorCode.INVALID_CAA, f"A CAA value is 1 to {MAX_CAA_VALUE} characters, no quotes."
        )
    elif tag == "iodef" and not re.match(r"^(mailto:\S+@\S+|https?://\S+)$", value):
        check.add("content", DnsErrorCode.INVALID_CAA, "An iodef value is a mailto: or http(s):// URL.")
    elif tag != "iodef" and not _CAA_ISSUER.match(value):
        check.add("content", DnsErrorCode.INVALID_CAA, 'An issue value is a CA domain (or ";" for none).')
    return tag, flags, value


def _not_taken(check: _Checker, draft: RecordDraft, *fields: str) -> None:
    for field in fields:
        if getattr(draft, field) is not None:
            check.add(field, DnsErrorCode.NOT_APPLICABLE, f"{draft.type} records take no {field}.")


def normalise(
    draft: RecordDraft, zone: str, default_ttl: int, prefix: str = ""
) -> RecordValue | list[FieldProblem]:
    """The record as stored, or every problem of its fields."""
    check = _Checker(prefix)
    kind = draft.type
    try:
        name = owner_name(draft.name, zone)
    except NameOutsideZone as exc:
        check.add("name", DnsErrorCode.NAME_OUTSIDE_ZONE, str(exc))
        name = draft.name
    except BadName as exc:
        check.add("name", DnsErrorCode.INVALID_NAME, str(exc))
        name = draft.name
    ttl = default_ttl if draft.ttl is None else draft.ttl
    if not _range(ttl, MIN_TTL, MAX_TTL):
        check.add("ttl", DnsErrorCode.INVALID_TTL, f"A TTL is {MIN_TTL} to {MAX_TTL} seconds.")
    content = draft.content.strip() if kind != DnsRecordType.TXT else draft.content
    value = RecordValue(kind, name, content, ttl)
    if kind in (DnsRecordType.A, DnsRecordType.AAAA):
        _not_taken(check, draft, "priority", "weight", "port", "flags", "tag")
        value = replace(value, content=_address(check, draft))
    elif kind in (DnsRecordType.CNAME, DnsRecordType.NS, DnsRecordType.PTR):
        _not_taken(check, draft, "priority", "weight", "port", "flags", "tag")
        value = replace(value, content=_target(check, content, f"The {kind} target"))
    elif kind == DnsRecordType.MX:
        _not_taken(check, draft, "weight", "port", "flags", "tag")
        if not _range(draft.priority, 0, 65535):
            check.add("priority", DnsErrorCode.INVALID_PRIORITY, "An MX preference is 0 to 65535.")
        value = replace(value, content=_target(check, content, "The mail exchange"), priority=draft.priority)
    elif kind == DnsRecordType.SRV:
        _not_taken(check, draft, "flags", "tag")
        for field, code in (
            ("priority", DnsErrorCode.INVALID_PRIORITY),
            ("weight", DnsErrorCode.INVALID_WEIGHT),
            ("port", DnsErrorCode.INVALID_PORT),
        ):
            if not _range(getattr(draft, field), 0, 65535):
                check.add(field, code, f"An SRV {field} is 0 to 65535.")
        target = "." if content == "." else _target(check, content, "The SRV target")
        value = replace(value, content=target, priority=draft.priority, weight=draft.weight, port=draft.port)
    elif kind == DnsRecordType.TXT:
        _not_taken(check, draft, "priority", "weight", "port", "flags", "tag")
        value = replace(value, content=_text(check, content))
    elif kind == DnsRecordType.CAA:
        _not_taken(check, draft, "priority", "weight", "port")
        tag, flags, caa_value = _caa(check, draft)
        value = replace(value, content=caa_value, flags=flags, tag=tag)
    if not check.problems and not check_rdata(value):  # a last guard: the export must read back
        check.add(
            "content", DnsErrorCode.INVALID_TEXT, f"This {kind} record cannot be written to a zone file."
        )
    return check.problems or value


def set_problems(records: Sequence[tuple[str, RecordValue]]) -> list[FieldProblem]:
    """Rules over a zone's record set as it would be; each record comes with the prefix of the
    input that wrote it ("" for the input of a single record, None-like "-" for stored ones that
    this call did not touch: those are never blamed)."""
    problems: list[FieldProblem] = []
    by_name: dict[str, list[tuple[str, RecordValue]]] = defaultdict(list)
    seen: dict[tuple[object, ...], str] = {}
    for prefix, record in records:
        by_name[record.name].append((prefix, record))
        blamed = prefix != STORED
        if record.type == DnsRecordType.CNAME and record.name == APEX and blamed:
            problems.append(
                problem(
                    prefix, "name", DnsErrorCode.CNAME_AT_APEX, "The zone apex cannot hold a CNAME record."
                )
            )
        if record.type == DnsRecordType.NS and record.name == APEX and blamed:
            problems.append(
                problem(
                    prefix,
                    "name",
                    DnsErrorCode.APEX_NS_MANAGED,
                    "The apex NS records are the assigned nameservers; NS records delegate subdomains.",
                )
            )
        key = record.identity()
        if key in seen and blamed:
            problems.append(
                problem(prefix, "content", DnsErrorCode.DUPLICATE_RECORD, "The zone has this record already.")
            )
        seen.setdefault(key, prefix)
    for name, at_name in by_name.items():
        cnames = [item for item in at_name if item[1].type == DnsRecordType.CNAME]
        if cnames and len(at_name) > 1:
            for prefix, record in at_name:
                if prefix != STORED:
                    problems.append(
                        problem(
                            prefix,
                            "type" if record.type == DnsRecordType.CNAME else "name",
                            DnsErrorCode.CNAME_CONFLICT,
                            f"A CNAME is the only record at its name ({name}).",
                        )
                    )
    return problems


STORED = "-"


def raise_problems(problems: Iterable[FieldProblem]) -> None:
    found = list(problems)
    if found:
        raise InvalidInput(*found)


def _quoted_strings(text: str) -> str:
    data = text.encode("utf-8")
    chunks = [data[i : i + MAX_TXT_STRING] for i in range(0, len(data), MAX_TXT_STRING)] or [b""]
    return TXT(dns.rdataclass.IN, dns.rdatatype.TXT, chunks).to_text()


def rdata_text(record: RecordValue) -> str:
    """The record's data in zone-file presentation (targets absolute, TXT split and escaped)."""
    kind = record.type
    if kind in (DnsRecordType.A, DnsRecordType.AAAA):
        return record.content
    if kind in (DnsRecordType.CNAME, DnsRecordType.NS, DnsRecordType.PTR):
        return f"{record.content}."
    if kind == DnsRecordType.MX:
        return f"{record.priority} {record.content}."
    if kind == DnsRecordType.SRV:
        target = "." if record.content == "." else f"{record.content}."
        return f"{record.priority} {record.weight} {record.port} {target}"
    if kind == DnsRecordType.CAA:
        return f'{record.flags} {record.tag} "{record.content}"'
    return _quoted_strings(record.content)


def check_rdata(record: RecordValue) -> bool:
    """Whether dnspython reads the presentation text back (the export must parse)."""
    try:
        dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(record.type.value), rdata_text(record))
    except (dns.exception.DNSException, ValueError):
        return False
    return True
