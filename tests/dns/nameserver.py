"""A small DNS server for the delegation tests: UDP on 127.0.0.1 and a free port, answering NS
queries for the zones a test delegates, NXDOMAIN for any other name, and nothing at all once
silenced (the resolver then times out). Built with dnspython's message handling."""

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
from dns.rdtypes.ANY.NS import NS


class Nameserver:
    def __init__(self) -> None:
        self.delegations: dict[str, list[str]] = {}
        self.silent = False
        self.queries: list[tuple[str, str]] = []
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.05)
        self.port: int = self._socket.getsockname()[1]
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="test-nameserver", daemon=True)

    def delegate(self, zone: str, *nameservers: str) -> None:
        self.delegations[zone.lower().rstrip(".")] = list(nameservers)

    def _answer(self, wire: bytes) -> bytes | None:
        query = dns.message.from_wire(wire)
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        self.queries.append((name, dns.rdatatype.to_text(question.rdtype)))
        if self.silent:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA | dns.flags.RA
        targets = self.delegations.get(name)
        if targets is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.NS and targets:
            rdatas = [NS(dns.rdataclass.IN, dns.rdatatype.NS, dns.name.from_text(t + ".")) for t in targets]
            response.answer.append(dns.rrset.from_rdata_list(question.name, 300, rdatas))
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
def nameserver() -> Iterator[Nameserver]:
    server = Nameserver()
    server.start()
    try:
        yield server
    finally:
        server.stop()
