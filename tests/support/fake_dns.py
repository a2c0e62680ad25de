"""A small DNS server for tests: UDP on 127.0.0.1 and a free port, answering TXT queries for the
names a test publishes and NS queries for the zones it delegates, NXDOMAIN for any other name, and
nothing at all for the names a test silences (the resolver then times out). Built with dnspython's
wire format."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from dns.rdata import Rdata
from dns.rdtypes.ANY.NS import NS
from dns.rdtypes.ANY.TXT import TXT


class FakeDns:
    def __init__(self) -> None:
        # name (lower case, no trailing dot) -> its records by type
        self.records: dict[str, dict[dns.rdatatype.RdataType, list[Rdata]]] = {}
        self.silent: set[str] = set()
        self.queries: list[str] = []
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.05)
        self.port: int = self._socket.getsockname()[1]
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="fake-dns", daemon=True)

    def publish(self, name: str, *values: str) -> None:
        """TXT records of ``name``, in place of any it had."""
        rdatas = [TXT(dns.rdataclass.IN, dns.rdatatype.TXT, [value.encode()]) for value in values]
        self._records_of(name)[dns.rdatatype.TXT] = list(rdatas)

    def delegate(self, zone: str, *nameservers: str) -> None:
        """The NS set of ``zone``, in place of any it had."""
        rdatas = [NS(dns.rdataclass.IN, dns.rdatatype.NS, dns.name.from_text(ns)) for ns in nameservers]
        self._records_of(zone)[dns.rdatatype.NS] = list(rdatas)

    def _records_of(self, name: str) -> dict[dns.rdatatype.RdataType, list[Rdata]]:
        return self.records.setdefault(name.lower().removesuffix("."), {})

    def _answer(self, wire: bytes) -> bytes | None:
        query = dns.message.from_wire(wire)
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        self.queries.append(name)
        if name in self.silent:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA | dns.flags.RA  # the answer of a resolver, as resolvers ask
        records = self.records.get(name)
        if records is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif rdatas := records.get(dns.rdatatype.RdataType(question.rdtype)):
            response.answer.append(dns.rrset.from_rdata_list(question.name, 60, rdatas))
        return response.to_wire()

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                wire, client = self._socket.recvfrom(4096)
            except TimeoutError:
                continue
            answer = self._answer(wire)
            if answer is not None:
                self._socket.sendto(answer, client)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=2)
        self._socket.close()


@contextmanager
def fake_dns() -> Iterator[FakeDns]:
    server = FakeDns()
    server.start()
    try:
        yield server
    finally:
        server.stop()
