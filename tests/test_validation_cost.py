"""Validation cost is bounded: every document a request body can hold is answered (refused or run)
within VALIDATION_BUDGET_MS of CPU spent before execution, and validation never holds the event
loop for long (a fragment bomb once took 21 s, and a concurrent /health waited as long).

Each document below is the worst of its kind that the body limit allows: as many tokens,
characters, fragments, directives and repetitions as fit. The CPU is measured around the schema's
whole answer with execution skipped (size check, parse, our limits, graphql-core's rules, cost
analysis, string checks), the least of a few runs, each run a new text so that no cache helps."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest
from graphql import (
    ExecutionResult,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    Undefined,
    get_named_type,
    is_leaf_type,
    is_non_null_type,
    parse,
)
from strawberry.extensions import SchemaExtension
from strawberry.federation import Schema
from strawberry.types import ExecutionResult as StrawberryResult

from core.settings import Settings
from subgraph.build import build_schema
from tests.conftest import TEST_SIGNING_KEY
from tests.support.identity import Identity
from tests.support.live_server import LiveServer, LiveServers, TransportWsClient, server_env

VALIDATION_BUDGET_MS = 50.0
RUNS = 5
MIB = 1024 * 1024
# Values for the required arguments of the generated wide document.
REQUIRED_VALUES = {
    "ID!": '"UHJvZHVjdDox"',
    "String!": '"x"',
    "DateTime!": '"2026-01-01T00:00:00+00:00"',
    "Int!": "1",
    "[ID!]!": '["UHJvZHVjdDox"]',
    "[_Any!]!": "[]",
}


class SkipExecution(SchemaExtension):
    """Answers with empty data instead of running what passed every check: what is measured is
    the cost of getting there."""

    def on_execute(self) -> Iterator[None]:
        if self.execution_context.result is None:
            self.execution_context.result = ExecutionResult(data={}, errors=None)
        yield


@pytest.fixture(scope="module")
def checking_schema(settings: Settings) -> Schema:
    schema = build_schema(settings)
    schema.extensions = (*schema.extensions, SkipExecution)
    return schema


def fits(document: str, settings: Settings) -> bool:
    """Within the token and size limits (with room for the per-run suffix of ``cpu_ms``)."""
    try:
        parse(
            document,
            max_lexical_tokens=settings.max_tokens,
            max_comments=settings.max_tokens - 1,
            max_source_length=settings.max_document_chars - 16,
        )
    except GraphQLError as error:
        return "more than" not in error.message
    return True


def largest(make: Callable[[int], str], settings: Settings, most: int = 10_000) -> str:
    """``make(n)`` for the largest ``n`` that fits the limits."""
    low, high = 1, most
    while low < high:
        middle = (low + high + 1) // 2
        if fits(make(middle), settings):
            low = middle
        else:
            high = middle - 1
    return make(low)


def side_by_side(count: int, body: str = "__typename", on: str = "Query", where: str = "{}") -> str:
    """``count`` fragments spread in one selection set (``where`` puts the spreads in place)."""
    spreads = " ".join(f"...F{n}" for n in range(count))
    return "{ " + where.format(spreads) + " } " + definitions(count, body, on)


def definitions(count: int, body: str = "__typename", on: str = "Query") -> str:
    return " ".join(f"fragment F{n} on {on} {{ {body} }}" for n in range(count))


def each_spreading_the_later(count: int) -> str:
    """Fragment n spreads every fragment after it: many pairs of fragments to compare."""
    later = [" ".join(f"...F{m}" for m in range(n + 1, count)) for n in range(count)]
    spreads = " ".join(f"...F{n}" for n in range(count))
    return f"{{ {spreads} }} " + " ".join(
        f"fragment F{n} on Query {{ {later[n]} __typename }}" for n in range(count)
    )


def doubling(levels: int, leaf: str = "name") -> str:
    """Each level twice: ``parent { parent { name } parent { name } } parent { ... }``."""
    inner = leaf
    for _ in range(levels):
        inner = f"parent {{ {inner} }} parent {{ {inner} }}"
    return f"{{ categories {{ nodes {{ {inner} }} }} }}"


def required_arguments(field: GraphQLField) -> str | None:
    given = []
    for name, argument in field.args.items():
        if is_non_null_type(argument.type) and argument.default_value in (None, Undefined):
            value = REQUIRED_VALUES.get(str(argument.type))
            if value is None:
                return None
            given.append(f"{name}: {value}")
    return f"({', '.join(given)})" if given else ""


def every_field(parent: GraphQLNamedType, depth: int) -> str:
    """Every field of ``parent`` (whatever can be given its required arguments), and of the
    objects below it down to ``depth``."""
    selections = []
    for name, field in getattr(parent, "fields", {}).items():
        arguments = required_arguments(field)
        named = get_named_type(field.type)
        if arguments is None:
            continue
        if is_leaf_type(named):
            selections.append(name + arguments)
        elif depth > 0:
            selections.append(f"{name}{arguments} {{ {every_field(named, depth - 1)} }}")
    return " ".join(selections) or "__typename"


def wide_document(schema: Schema, settings: Settings) -> str:
    """As many root fields, each with every field two levels down, as the limits allow: a valid
    document that every rule has to walk all of."""
    query_type = schema._schema.query_type
    roots: list[str] = []
    for name, field in query_type.fields.items() if query_type else ():
        arguments = required_arguments(field)
        if arguments is None or name.startswith("_"):
            continue
        named = get_named_type(field.type)
        inner = f" {{ {every_field(named, 2)} }}" if not is_leaf_type(named) else ""
        if fits("{ " + " ".join([*roots, f"{name}{arguments}{inner}"]) + " }", settings):
            roots.append(f"{name}{arguments}{inner}")
    return "{ " + " ".join(roots) + " }"


def worst_documents(schema: Schema, settings: Settings) -> dict[str, str]:
    chars, fragments, directives = (
        settings.max_document_chars,
        settings.max_fragments,
        settings.max_directives_per_field,
    )
    at_cap = chars - 40
    documents = {
        # Over the size cap: refused before they are lexed.
        "1 MiB comment": "#" + "x" * (MIB - 32) + "\n{ __typename }",
        "1 MiB whitespace": " " * (MIB - 32) + "{ __typename }",
        "1 MiB string": '{ tenantBySlug(slug: "' + "x" * (MIB - 64) + '") { name } }',
        "1 MiB of fields": "{ " + "__typename " * (MIB // 11 - 2) + "}",
        # At the size cap: lexed character by character.
        "comment at the cap": "#" + "x" * at_cap + "\n{ __typename }",
        "comment at the cap, then a syntax error": "#" + "x" * at_cap + "\n{ __typename",
        "whitespace at the cap": " " * at_cap + "{ __typename }",
        "commas at the cap": "," * at_cap + "{ __typename }",
        "string at the cap": '{ tenantBySlug(slug: "' + "x" * at_cap + '") { name } }',
        "block string at the cap": '{ tenantBySlug(slug: """' + "x" * at_cap + '""") { name } }',
        "escapes at the cap": '{ tenantBySlug(slug: "' + "\\u0041" * (at_cap // 6) + '") { name } }',
        "one long name": "{ " + "a" * at_cap + " }",
        "comment lines": largest(lambda n: "#\n" * n + "{ __typename }", settings),
        # At the token limit.
        "over the token limit": "{ " + "__typename " * (settings.max_tokens + 1) + "}",
        "one field repeated": largest(lambda n: "{ " + "__typename " * n + "}", settings),
        "one object field repeated": largest(lambda n: "{ " + "me { id } " * n + "}", settings),
        "distinct aliases": largest(
            lambda n: "{ " + " ".join(f"a{i}: __typename" for i in range(n)) + " }", settings
        ),
        "one alias for two fields": largest(
            lambda n: "{ " + "a: __typename a: me { id } " * n + "}", settings
        ),
        "connections repeated": largest(
            lambda n: "{ " + "products { nodes { id name } } " * n + "}", settings
        ),
        "connections with other arguments": largest(
            lambda n: "{ " + " ".join(f"products(first: {i}) {{ nodes {{ id }} }}" for i in range(n)) + " }",
            settings,
        ),
        "overlaps doubling at each level": largest(doubling, settings, most=12),
        "inline fragments repeated": largest(
            lambda n: "{ " + "... on Query { __typename } " * n + "}", settings
        ),
        "unknown fields": largest(lambda n: "{ " + " ".join(f"x{i}" for i in range(n)) + " }", settings),
        "unknown arguments": largest(
            lambda n: "{ __typename(" + " ".join(f"x{i}: 1" for i in range(n)) + ") }", settings
        ),
        "one argument repeated": largest(
            lambda n: "{ tenantBySlug(" + 'slug: "x" ' * n + ") { name } }", settings
        ),
        "unknown input fields": largest(
            lambda n: (
                "{ products(filter: {" + " ".join(f'x{i}: "x"' for i in range(n)) + "}) { totalCount } }"
            ),
            settings,
        ),
        "one input field repeated": largest(
            lambda n: "{ products(filter: {" + 'search: "x" ' * n + "}) { totalCount } }", settings
        ),
        "long list literal": largest(lambda n: "{ nodes(ids: [" + '"a" ' * n + "]) { id } }", settings),
        "nested list literal": largest(
            lambda n: "{ tenantBySlug(slug: " + "[" * n + "]" * n + ") { name } }", settings, 400
        ),
        "nested object literal": largest(
            lambda n: "{ products(filter: " + "{search: " * n + '"x"' + "}" * n + ") { totalCount } }",
            settings,
            400,
        ),
        "nested list type": largest(
            lambda n: "query($a: " + "[" * n + "Int" + "]" * n + ") { __typename }", settings, 400
        ),
        "nested selections": largest(
            lambda n: "{ products { nodes { category { " + "parent { " * n + "name" + " }" * (n + 3) + " }",
            settings,
            400,
        ),
        # Fragments.
        "fragments over the limit": side_by_side(fragments + 1),
        "fragments side by side": side_by_side(fragments),
        "fragments of many fields side by side": largest(
            lambda n: side_by_side(fragments, "id name sku " * n, "Product", "products {{ nodes {{ {} }} }}"),
            settings,
            50,
        ),
        "fragments each spreading every later one": largest(each_spreading_the_later, settings, fragments),
        "fragment bomb": "{ ...F0 } "
        + " ".join(f"fragment F{n} on Query {{ ...F{n + 1} ...F{n + 1} }}" for n in range(fragments - 1))
        + f" fragment F{fragments - 1} on Query {{ __typename }}",
        "fragment chain": "{ ...F0 } "
        + " ".join(f"fragment F{n} on Query {{ ...F{n + 1} }}" for n in range(fragments - 1))
        + f" fragment F{fragments - 1} on Query {{ __typename }}",
        "unused fragments": "{ __typename } " + definitions(fragments),
        # Directives.
        "directives on one field": largest(
            lambda n: "{ __typename " + "@skip(if: false) " * n + "}", settings
        ),
        "directives at the limit on every field": largest(
            lambda n: (
                "{ products { nodes { "
                + " ".join(f"f{i}: id " + "@include(if: true) " * directives for i in range(n))
                + " } } }"
            ),
            settings,
        ),
        "unknown directives": largest(
            lambda n: "{ products { nodes { " + ("id " + "@x " * directives) * n + "} } }", settings
        ),
        # Variables and operations.
        "unused variables": largest(
            lambda n: "query(" + " ".join(f"$v{i}: Int" for i in range(n)) + ") { __typename }", settings
        ),
        "variables on every field": largest(
            lambda n: (
                "query("
                + " ".join(f"$v{i}: Boolean!" for i in range(n))
                + ") { products { nodes { "
                + " ".join(f"f{i}: id @skip(if: $v{i})" for i in range(n))
                + " } } }"
            ),
            settings,
        ),
        "variables through fragments": largest(
            lambda n: (
                "query("
                + " ".join(f"$v{i}: Boolean!" for i in range(n))
                + ") { "
                + " ".join(f"...F{i}" for i in range(min(n, fragments)))
                + " } "
                + " ".join(
                    f"fragment F{i} on Query {{ __typename @skip(if: $v{i}) }}"
                    for i in range(min(n, fragments))
                )
            ),
            settings,
        ),
        "operations": largest(lambda n: " ".join(f"query Q{i} {{ __typename }}" for i in range(n)), settings),
        "operations spreading one fragment": largest(
            lambda n: (
                " ".join(f"query Q{i} {{ ...F }}" for i in range(n))
                + " fragment F on Query { products { nodes { id name sku price { amount currency } } } }"
            ),
            settings,
        ),
        "anonymous operations": largest(lambda n: "{ __typename } " * n, settings),
        # Valid, and all of it to walk.
        "every field of every root field": wide_document(schema, settings),
    }
    assert fits(documents["fragments side by side"], settings)
    return documents


async def cpu_ms(schema: Schema, document: str) -> tuple[float, StrawberryResult]:
    best, result = float("inf"), None
    for run in range(RUNS):
        text = f"{document}\n#{run}"  # a new text each time: no cache helps
        # The collector paused: a full collection of the whole suite's garbage (tens of ms late in
        # the run) is no cost of this document.
        gc.collect()
        gc.disable()
        try:
            started = time.process_time()
            result = await schema.execute(text)
            best = min(best, (time.process_time() - started) * 1000)
        finally:
            gc.enable()
    assert result is not None
    return best, result


@pytest.fixture(scope="module")
def worst(checking_schema: Schema, settings: Settings) -> dict[str, str]:
    return worst_documents(checking_schema, settings)


async def test_every_document_is_answered_within_the_validation_budget(
    checking_schema: Schema, worst: dict[str, str]
) -> None:
    over = {}
    for name, document in worst.items():
        spent, result = await cpu_ms(checking_schema, document)
        assert result.errors or result.data is not None, name
        if spent > VALIDATION_BUDGET_MS:
            over[name] = round(spent, 1)
    assert over == {}


async def test_the_worst_documents_are_refused_with_a_reason(
    checking_schema: Schema, settings: Settings, worst: dict[str, str]
) -> None:
    expected = {
        "1 MiB comment": f"The document has {len(worst['1 MiB comment'])} characters",
        "over the token limit": f"Document contains more than {settings.max_tokens} tokens",
        "comment lines": None,
        "distinct aliases": "aliases found",
        "one object field repeated": "Too many fields with the same response name to compare",
        "connections repeated": "Too many fields with the same response name to compare",
        "overlaps doubling at each level": "Too many fields with the same response name to compare",
        "fragments over the limit": f"{settings.max_fragments + 1} fragments found",
        "directives on one field": "directives on one selection",
        "fragment bomb": None,
        "fragment chain": None,
    }
    for name, reason in expected.items():
        result = await checking_schema.execute(worst[name])
        if reason is None:
            assert result.errors is None, (name, result.errors)
        else:
            assert result.errors and reason in result.errors[0].message, (name, result.errors)
            assert (result.errors[0].extensions or {})["code"] == "BAD_USER_INPUT"
    # Valid: it passes all of validation (and costs what its lists may hold).
    wide = await checking_schema.execute(worst["every field of every root field"])
    assert not wide.errors or wide.errors[0].message.startswith("The operation may cost"), wide.errors


@pytest.fixture(scope="module")
async def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    # A budget of its own, whatever the default: the costly subscription below must be refused.
    env = server_env(
        settings.database_url, settings.broadcast_url, TEST_SIGNING_KEY, TENANTGRAPH_MAX_QUERY_COST="10000"
    )
    pool = LiveServers(tmp_path_factory.mktemp("validation-cost"), env)
    try:
        (started,) = await pool.start(1)
        yield started
    finally:
        await pool.stop_all()


async def test_validation_does_not_hold_up_other_requests(server: LiveServer, worst: dict[str, str]) -> None:
    """The most expensive documents, one after the other to a server process, while another client
    asks /health all the while: /health answers within about one validation."""
    heaviest = [
        "every field of every root field",
        "unknown input fields",
        "connections repeated",
        "one object field repeated",
        "fragment bomb",
    ]
    waits: list[float] = []
    done = asyncio.Event()
    async with (
        httpx.AsyncClient(base_url=server.base_url, timeout=10) as sender,
        httpx.AsyncClient(base_url=server.base_url, timeout=10) as prober,
    ):

        async def probe() -> None:
            while not done.is_set():
                started = time.perf_counter()
                response = await prober.get("/health")
                waits.append(time.perf_counter() - started)
                assert response.status_code == 200
                await asyncio.sleep(0.002)

        probing = asyncio.create_task(probe())
        answers = []
        for copy in range(4):
            for name in heaviest:
                response = await sender.post("/graphql", json={"query": f"{worst[name]}\n#{copy}"})
                answers.append((response.status_code, bool(response.json().get("errors"))))
        done.set()
        await probing
    assert answers == [(200, name != "fragment bomb") for _ in range(4) for name in heaviest]
    assert len(waits) >= 5, waits  # the probe did run during the validations
    # A validation is at most VALIDATION_BUDGET_MS of CPU; a loaded machine's wall clock stretches
    # it, but a concurrent request no longer waits for anything like the 21 s it once did.
    assert max(waits) < 0.25, sorted(round(w, 3) for w in waits)[-5:]


async def test_over_a_websocket_too(server: LiveServer, identity: Identity, settings: Settings) -> None:
    """A websocket's documents are refused as HTTP ones are: too long, too costly, not parsing
    (which graphql-transport-ws answers by closing the socket, as strawberry always did)."""
    account = await identity.account("acme")
    too_long = "#" + "x" * settings.max_document_chars + "\nsubscription { userUpdated { id } }"
    # userUpdated 1 + orders 1 + 100 x (order 1 + 100 items)
    costly = "subscription { userUpdated { orders(first: 100) { nodes { items { name } } } } }"
    async with await TransportWsClient.connected(server.ws_url, account.token) as ws:
        await ws.subscribe(too_long, id="1")
        refused = await ws.receive()
        assert refused["type"] == "error" and refused["id"] == "1", refused
        assert refused["payload"][0]["extensions"] == {"code": "BAD_USER_INPUT"}
        assert "characters; at most" in refused["payload"][0]["message"]
        await ws.subscribe(costly, id="2")
        refused = await ws.receive()
        assert refused["type"] == "next" and refused["id"] == "2", refused
        (error,) = refused["payload"]["errors"]
        assert error["extensions"] == {
            "code": "BAD_USER_INPUT",
            "cost": {"requested": 10102, "maximum": 10_000},
        }
        assert (await ws.receive())["type"] == "complete"
        await ws.subscribe("subscription { userUpdated { id }", id="3")
        closed = await ws.wait_closed()
    assert (closed.code, closed.reason) == (4400, "Syntax Error: Expected Name, found <EOF>.")


async def test_unclean_strings_over_a_websocket(server: LiveServer, identity: Identity) -> None:
    """A subscription's variables and literals are checked as an HTTP request's are: refused
    before the subscription starts (a result set before execution was ignored for a subscription)."""
    account = await identity.account("acme")
    by_id = "subscription($id: ID) { userUpdated(id: $id) { id } }"
    async with await TransportWsClient.connected(server.ws_url, account.token) as ws:
        await ws.subscribe(by_id, {"id": "VXNlcjox\x00"}, id="1")
        refused = await ws.receive()
        assert refused["type"] == "next" and refused["id"] == "1", refused
        (error,) = refused["payload"]["errors"]
        assert error["extensions"] == {"code": "BAD_USER_INPUT"}
        assert error["message"].startswith("$.id holds a control character"), error
        assert (await ws.receive())["type"] == "complete"
        # A literal is the document's: refused with its validation.
        await ws.subscribe('subscription { userUpdated(id: "VXNlcjox\\u0007") { id } }', id="2")
        refused = await ws.receive()
        assert refused["type"] == "error" and refused["id"] == "2", refused
        assert refused["payload"][0]["extensions"] == {"code": "BAD_USER_INPUT"}
        assert refused["payload"][0]["message"].startswith("id holds a control character")
