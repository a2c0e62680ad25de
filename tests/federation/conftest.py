"""Gateways over tenantgraph: the Node harness of tools/federation (installed by scripts/npm-ci.sh),
a foreign reviews subgraph, and Apollo Gateway and Hive Gateway over a running deployment of ours.

``deployment`` is the tenantgraph side, a parameter: a list of (subgraph name, URL) of running
`tenantgraph serve` processes. Each deployment of DEPLOYMENTS runs in production mode (so the
gateways must send the gateway secret for `_service`) on the test database; nothing here assumes
one process of ours but DEPLOYMENTS itself. Every process lives for this package only (stopped by
its PID when its last test ends); a failed test shows the logs of the processes it used."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.permissions import Role
from core.settings import Settings
from models.catalog import ProductStatus
from server.runtime import Runtime
from subgraph.groups import GROUPS
from tests.conftest import PRODUCTION_SETTINGS, TEST_SIGNING_KEY
from tests.federation.harness import NodeProcess, compose, install
from tests.orders.conftest import Shop, new_shop
from tests.support.graphql import GraphQLClient
from tests.support.identity import Account, Identity, global_id
from tests.support.live_server import LiveServer, LiveServers, server_env

SECRET = "gateway-secret-of-the-federation-tests-0123456789"
# name -> the processes of ours: (subgraph name, extra `serve` arguments) each.
DEPLOYMENTS: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "monolith": [("tenantgraph", ())],
    "split": [(group, ("--subgraph", group)) for group in GROUPS],
}
GATEWAYS = ("apollo", "hive")


@dataclass
class Deployment:
    name: str
    servers: list[tuple[str, LiveServer]]

    @property
    def subgraphs(self) -> list[tuple[str, str]]:
        """(subgraph name, GraphQL URL) of each process of ours."""
        return [(name, f"{server.base_url}/graphql") for name, server in self.servers]

    def describe(self) -> str:
        return "\n\n".join(server.describe() for _, server in self.servers)


class Gateway(NodeProcess):
    """A gateway process (``kind``: one of GATEWAYS) of tools/federation."""

    def __init__(self, kind: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind


class Reviews(NodeProcess):
    """The foreign subgraph (tools/federation/reviews.mjs)."""

    async def replace(self, reviews: list[dict[str, Any]]) -> None:
        async with httpx.AsyncClient(base_url=self.base_url) as client:
            answer = await client.put("/reviews", json=reviews)
        assert answer.status_code == 204, answer.text

    async def seen(self) -> list[str | None]:
        """The Authorization header of each GraphQL request it got since the last ``replace``."""
        async with httpx.AsyncClient(base_url=self.base_url) as client:
            found: list[str | None] = (await client.get("/seen")).json()
        return found


@dataclass
class Catalog:
    shop: Shop
    user: Account
    manager: Account
    router: str
    switch: str
    prototype: str


def _production_env(settings: Settings) -> dict[str, str]:
    values = {**PRODUCTION_SETTINGS, "jwt_signing_key": TEST_SIGNING_KEY, "gateway_secret": SECRET}
    extra = {
        f"TENANTGRAPH_{name.upper()}": str(value).lower() if value is True else str(value)
        for name, value in values.items()
    }
    return server_env(settings.database_url, settings.broadcast_url, TEST_SIGNING_KEY, **extra)


@pytest.fixture(scope="package")
def federation_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("federation")


@pytest.fixture(scope="package")
def node() -> Path:
    return install()


@pytest.fixture(scope="package", params=list(DEPLOYMENTS))
async def deployment(
    request: pytest.FixtureRequest, settings: Settings, federation_logs: Path, node: Path
) -> AsyncIterator[Deployment]:
    pool = LiveServers(federation_logs, _production_env(settings))
    servers = [
        (name, LiveServer(f"{request.param}-{name}", federation_logs, pool.env, extra_args))
        for name, extra_args in DEPLOYMENTS[request.param]
    ]
    pool.servers = [server for _, server in servers]
    try:
        for _, server in servers:
            server.spawn()
        for _, server in servers:
            await server.wait_healthy()
        yield Deployment(request.param, servers)
    finally:
        await pool.stop_all()


@pytest.fixture(scope="package")
async def reviews(node: Path, federation_logs: Path) -> AsyncIterator[Reviews]:
    process = Reviews("reviews", "reviews.mjs", (), federation_logs)
    try:
        yield await process.start()
    finally:
        process.stop()


@pytest.fixture(scope="package")
def supergraph(deployment: Deployment, reviews: Reviews, federation_logs: Path) -> Path:
    """The supergraph of ours and the reviews subgraph, composed with the gateway secret."""
    composed = compose([*deployment.subgraphs, ("reviews", reviews.url)], TENANTGRAPH_GATEWAY_SECRET=SECRET)
    assert composed.errors == [] and composed.supergraph_sdl is not None, composed.errors
    path = federation_logs / f"supergraph-{deployment.name}.graphql"
    path.write_text(composed.supergraph_sdl)
    return path


@pytest.fixture(scope="package", params=GATEWAYS)
async def gateway(
    request: pytest.FixtureRequest,
    deployment: Deployment,
    reviews: Reviews,
    supergraph: Path,
    federation_logs: Path,
) -> AsyncIterator[Gateway]:
    name = f"{request.param}-gateway-{deployment.name}"
    if request.param == "apollo":
        subgraphs = [f"{n}={url}" for n, url in [*deployment.subgraphs, ("reviews", reviews.url)]]
        env = {"TENANTGRAPH_GATEWAY_SECRET": SECRET}
        process = Gateway("apollo", name, "apollo-gateway.mjs", tuple(subgraphs), federation_logs, env)
    else:
        process = Gateway("hive", name, "hive-gateway.mjs", (str(supergraph),), federation_logs)
    try:
        yield await process.start()
    finally:
        process.stop()


@pytest.fixture
async def catalog(runtime: Runtime, gql: GraphQLClient, identity: Identity, reviews: Reviews) -> Catalog:
    """A shop of three products, the partner's reviews of them: the DRAFT prototype rated best."""
    shop = await new_shop(runtime, gql, identity)
    router = global_id("Product", await shop.product(1000, name="Router"))
    switch = global_id("Product", await shop.product(2500, name="Switch"))
    prototype = global_id("Product", await shop.product(9900, name="Prototype", status=ProductStatus.DRAFT))
    await reviews.replace(
        [
            {"id": "r1", "productId": router, "reviewer": "ann", "rating": 5, "comment": "Fast."},
            {"id": "r2", "productId": router, "reviewer": "bob", "rating": 4, "comment": None},
            {"id": "r3", "productId": switch, "reviewer": "bob", "rating": 3, "comment": "Loud."},
            {"id": "r4", "productId": prototype, "reviewer": "ann", "rating": 5, "comment": "Promising."},
        ]
    )
    user, manager = await shop.account(), await shop.account(Role.MANAGER)
    return Catalog(shop, user, manager, router, switch, prototype)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed test shows the logs of the processes it used (servers, gateways, the subgraph)."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if not report.failed:
        return
    for name, value in getattr(item, "funcargs", {}).items():
        describe = getattr(value, "describe", None)
        if isinstance(value, Deployment | NodeProcess) and describe is not None:
            report.sections.append((f"log of {name}", describe()))
