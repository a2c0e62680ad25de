"""A tenant's web site for HTTP_FILE domain checks: files served over real HTTP by a local server
(tests/support/fake_server.py), and a DNS server (tests/support/fake_dns.py) that also answers A
records, so the app's resolver finds the site's address as it would on the internet."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dns.message
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from dns.rdtypes.IN.A import A
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.harness.servers import free_port
from tests.support.fake_dns import FakeDns
from tests.support.fake_server import ThreadedServer


class AddressDns(FakeDns):
    """FakeDns that also answers A queries for the names given addresses."""

    def __init__(self) -> None:
        super().__init__()
        self.addresses: dict[str, list[str]] = {}

    def _answer(self, wire: bytes) -> bytes | None:
        query = dns.message.from_wire(wire)
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        if question.rdtype != dns.rdatatype.A or name not in self.addresses:
            return super()._answer(wire)
        self.queries.append(name)
        response = dns.message.make_response(query)
        rdatas = [A(dns.rdataclass.IN, dns.rdatatype.A, address) for address in self.addresses[name]]
        response.answer.append(dns.rrset.from_rdata_list(question.name, 60, rdatas))
        return response.to_wire()


class FakeSite:
    """Serves ``files`` (path -> body); a path in ``redirects`` answers 302 to its target."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}
        self.redirects: dict[str, str] = {}
        # (Host header, path) of every request.
        self.requests: list[tuple[str, str]] = []
        self.port = free_port()
        self._server = ThreadedServer("fake-site")

    async def _serve(self, request: Request) -> Response:
        path = request.url.path
        self.requests.append((request.headers.get("host", ""), path))
        if path in self.redirects:
            return RedirectResponse(self.redirects[path], status_code=302)
        if path in self.files:
            return PlainTextResponse(self.files[path])
        return PlainTextResponse("not found", status_code=404)

    def start(self) -> None:
        app = Starlette(routes=[Route("/{path:path}", self._serve)])
        self._server.start(app, self.port)

    def stop(self) -> None:
        self._server.stop()


@contextmanager
def fake_site() -> Iterator[tuple[FakeSite, AddressDns]]:
    site, dns_server = FakeSite(), AddressDns()
    site.start()
    dns_server.start()
    try:
        yield site, dns_server
    finally:
        dns_server.stop()
        site.stop()
