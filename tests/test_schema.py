"""The printed schema: schema.graphql is current, every root field declares who may call it
(default deny), and the federation SDL is what a gateway composes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import GraphQLObjectType, ObjectTypeDefinitionNode, ObjectTypeExtensionNode, parse
from strawberry.federation import Schema
from strawberry.permission import PermissionExtension

from core.settings import Settings
from server.cli import main
from subgraph.build import build_schema

ACCESS_DIRECTIVES = frozenset({"public", "auth", "hasRole", "hasPermission", "serviceOnly"})
# Directives that narrow an access directive further (API keys' and service tokens' scopes).
NARROWING_DIRECTIVES = frozenset({"hasScope"})
FEDERATION_ONLY_FIELDS = frozenset({"_entities", "_service"})
FEDERATION_DIRECTIVE_NAMES = frozenset(
    {
        "requires",
        "provides",
        "key",
        "external",
        "shareable",
        "tag",
        "inaccessible",
        "override",
        "composeDirective",
        "interfaceObject",
        "authenticated",
        "requiresScopes",
        "policy",
        "cost",
        "listSize",
        "context",
        "fromContext",
        "link",
        "extends",
    }
)


@pytest.fixture(scope="module")
def schema() -> Schema:
    return build_schema(Settings())


@pytest.fixture(scope="module")
def sdl(schema: Schema) -> str:
    return schema.as_str()


def _root_types(schema: Schema) -> list[GraphQLObjectType]:
    graphql_schema = schema._schema
    roots = [graphql_schema.query_type, graphql_schema.mutation_type, graphql_schema.subscription_type]
    assert all(roots), "Query, Mutation and Subscription all exist"
    return [root for root in roots if root is not None]


def _access_directives_of(field: object) -> list[str]:
    """The access directives strawberry attached to a root field's definition."""
    names = []
    for directive in getattr(field, "directives", None) or []:
        definition = getattr(type(directive), "__strawberry_directive__", None)
        if definition is not None and definition.graphql_name in ACCESS_DIRECTIVES:
            names.append(definition.graphql_name)
    return names


# ---- schema.graphql ------------------------------------------------------------------------


def test_schema_file_is_current(repo_root: Path, sdl: str) -> None:
    path = repo_root / "schema.graphql"
    assert path.exists(), "run `python -m server export-schema`"
    assert path.read_text() == sdl + "\n", (
        "schema.graphql is stale: regenerate it with `python -m server export-schema`"
    )


def test_export_schema_command_writes_the_printed_schema(tmp_path: Path, sdl: str) -> None:
    output = tmp_path / "schema.graphql"
    assert main(["export-schema", "--output", str(output)]) == 0  # `python -m server export-schema`
    assert output.read_text() == sdl + "\n"


# ---- default deny --------------------------------------------------------------------------


def test_every_root_field_declares_access(schema: Schema) -> None:
    without: set[str] = set()
    checked = 0
    for root in _root_types(schema):
        for name, field in root.fields.items():
            definition = field.extensions.get("strawberry-definition")
            assert definition is not None, f"{root.name}.{name} has no strawberry definition"
            found = _access_directives_of(definition)
            assert len(found) <= 1, f"{root.name}.{name} declares several access directives: {found}"
            if found:
                checked += 1
            else:
                without.add(name)
    # Only the federation fields the gateway calls have no directive; anything else is reachable
    # by nobody's decision, which is refused here.
    assert without == FEDERATION_ONLY_FIELDS
    assert checked >= 20


def test_access_directives_are_enforced_by_a_permission(schema: Schema) -> None:
    """The printed directive is not decoration: the same permission object checks the call."""
    for root in _root_types(schema):
        for name, field in root.fields.items():
            if name in FEDERATION_ONLY_FIELDS:
                continue
            definition = field.extensions["strawberry-definition"]
            permissions = [
                permission
                for extension in definition.extensions
                if isinstance(extension, PermissionExtension)
                for permission in extension.permissions
            ]
            assert permissions, f"{root.name}.{name} has no permission check"
            enforced = {
                type(p.schema_directive).__strawberry_directive__.graphql_name
                for p in permissions
                if p.schema_directive is not None
            }
            assert enforced - NARROWING_DIRECTIVES == set(_access_directives_of(definition)), (
                f"{root.name}.{name}"
            )


def test_printed_root_fields_carry_access_directives(sdl: str) -> None:
    document = parse(sdl)
    without: set[str] = set()
    seen: set[str] = set()
    for node in document.definitions:
        if not isinstance(node, ObjectTypeDefinitionNode | ObjectTypeExtensionNode):
            continue
        if node.name.value not in ("Query", "Mutation", "Subscription"):
            continue
        seen.add(node.name.value)
        for field in node.fields or ():
            if not {d.name.value for d in field.directives or ()} & ACCESS_DIRECTIVES:
                without.add(field.name.value)
    assert seen == {"Query", "Mutation", "Subscription"}
    assert without == FEDERATION_ONLY_FIELDS


def test_role_directive_lists_roles(sdl: str) -> None:
    assert "tenants(" in sdl
    assert re.search(
        r"\n  tenants\((?:\n(?:    .*)?)*\n  \): TenantConnection! @hasRole\(roles: \[PLATFORM_ADMIN\]\)\n",
        sdl,
    )
    assert re.search(
        r'\n  tenantBySlug\(\n    """The slug the person typed \(any case\)\. At most 63 characters\."""\n'
        r"    slug: String!\n  \): PublicTenant @public\n",
        sdl,
    )
    assert re.search(r"\n  me: User! @auth @hasScope\(scopes: \[USERS_READ\]\)\n", sdl)


# ---- federation SDL ------------------------------------------------------------------------


def test_federation_link(sdl: str) -> None:
    assert '@link(url: "https://specs.apollo.dev/federation/v2.11"' in sdl


@pytest.mark.parametrize("type_name", ["User", "Tenant"])
def test_entities_have_id_keys(sdl: str, type_name: str) -> None:
    assert re.search(rf'\ntype {type_name}( implements [\w &]+)? @key\(fields: "id"\) {{', sdl), type_name


@pytest.mark.parametrize("type_name", ["PageInfo", "UserError"])
def test_shared_value_types_are_shareable(sdl: str, type_name: str) -> None:
    assert re.search(rf"\ntype {type_name}( implements [\w &]+)? @shareable {{", sdl), type_name


def test_access_directives_are_declared_and_not_named_like_federation(schema: Schema, sdl: str) -> None:
    declared_in_sdl = set(re.findall(r"^directive @(\w+)", sdl, flags=re.MULTILINE))
    assert {"auth", "public", "hasRole"} <= declared_in_sdl
    assert re.search(
        r"\ndirective @hasRole\(\n  \"\"\"[^\"]+\"\"\"\n  roles: \[Role!\]!\n\) on FIELD_DEFINITION\n", sdl
    )
    assert "directive @auth on FIELD_DEFINITION" in sdl
    assert "directive @public on FIELD_DEFINITION" in sdl
    ours = set()
    for directive in schema._schema.directives:
        definition = directive.extensions.get("strawberry-definition")
        if definition is not None and not definition.origin.__module__.startswith("strawberry."):
            ours.add(directive.name)
    assert {"auth", "public", "hasRole"} <= ours
    assert ours == declared_in_sdl
    clashes = {name for name in ours if name.lower() in {f.lower() for f in FEDERATION_DIRECTIVE_NAMES}}
    assert clashes == set()
