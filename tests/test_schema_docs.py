"""The documented schema: every type, field, argument, enum value, input field and directive has a
real description; a field's access note comes from the permission that enforces it; and the
breaking-change check (scripts/check-schema.sh) refuses a removal without deprecation."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Annotated

import pytest
import strawberry
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
)
from strawberry.federation import Schema
from strawberry.permission import PermissionExtension

from core.permissions import Role
from core.settings import Settings
from schema.directives import AUTHENTICATED, PUBLIC, HasRole, access, describe_access
from schema.enums import documented_enum
from subgraph.build import build_schema

# What we do not own, so cannot describe: federation's and the link spec's elements (added by
# strawberry.federation and printed, or not, by it), and the scalars of GraphQL itself.
EXEMPT: dict[str, str] = {
    **{
        name: "Apollo Federation's own element, added by strawberry.federation"
        for name in (
            "_Any",
            "_Entity",
            "_FieldSet",
            "_Service",
            "_Service.sdl",
            "Query._entities",
            "Query._entities(representations)",
            "Query._service",
            "@key",
            "@key(fields)",
            "@key(resolvable)",
            "@shareable",
        )
    },
    **{
        name: "the link spec's element (federation 2's @link), added by strawberry.federation"
        for name in (
            "@link",
            "@link(url)",
            "@link(as)",
            "@link(for)",
            "@link(import)",
            "link__Import",
            "link__Purpose",
            "link__Purpose.SECURITY",
            "link__Purpose.EXECUTION",
        )
    },
}

# Generated notes, which do not count as documentation on their own.
GENERATED_NOTES = re.compile(r"\s*(At most \d+ characters\.|Access: .*|Requires: .*)$")


def _words(text: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text).replace("_", " ")
    return re.findall(r"[a-z0-9]+", spaced.lower())


def _problem(coordinate: str, description: str | None) -> str | None:
    text = description or ""
    while (stripped := GENERATED_NOTES.sub("", text)) != text:
        text = stripped
    if not text.strip():
        return f"{coordinate}: no description"
    name = re.split(r"[.(@]", coordinate.rstrip(")"))[-1]
    if _words(text) == _words(name) or _words(text) == ["the", *_words(name)]:
        return f"{coordinate}: the description only restates the name ({text!r})"
    return None


def _arguments(coordinate: str, args: dict[str, GraphQLArgument]) -> Iterator[tuple[str, str | None]]:
    for name, argument in args.items():
        yield f"{coordinate}({name})", argument.description


def _elements(schema: GraphQLSchema) -> Iterator[tuple[str, str | None]]:
    """(coordinate, description) of every element of the schema but the introspection types."""
    for name, type_ in schema.type_map.items():
        if name.startswith("__"):
            continue
        yield name, type_.description
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in type_.fields.items():
                yield f"{name}.{field_name}", field.description
                yield from _arguments(f"{name}.{field_name}", field.args)
        elif isinstance(type_, GraphQLInputObjectType):
            for field_name, input_field in type_.fields.items():
                yield f"{name}.{field_name}", input_field.description
        elif isinstance(type_, GraphQLEnumType):
            for value_name, value in type_.values.items():
                yield f"{name}.{value_name}", value.description
    for directive in schema.directives:
        yield f"@{directive.name}", directive.description
        yield from _arguments(f"@{directive.name}", directive.args)


def undocumented(schema: GraphQLSchema, exempt: dict[str, str]) -> list[str]:
    """Every element without a real description, by schema coordinate."""
    return [
        problem
        for coordinate, description in _elements(schema)
        if coordinate not in exempt and (problem := _problem(coordinate, description)) is not None
    ]


@pytest.fixture(scope="module")
def schema() -> Schema:
    return build_schema(Settings())


def test_every_element_has_a_description(schema: Schema) -> None:
    missing = undocumented(schema._schema, EXEMPT)
    assert missing == [], "undocumented schema elements:\n" + "\n".join(missing)


def test_exemptions_name_elements_that_exist(schema: Schema) -> None:
    """An exemption for something the schema no longer has would hide nothing but itself."""
    coordinates = {coordinate for coordinate, _ in _elements(schema._schema)}
    assert set(EXEMPT) - coordinates == set()


class Shade(Enum):
    DARK = "DARK"
    LIGHT = "LIGHT"


strawberry.enum(Shade)


@strawberry.input
class PaintInput:
    shade: Shade
    coats: int = strawberry.field(default=1, description="How many layers, 1 to 3.")


@strawberry.type(description="A wall of a room.")
class Wall:
    height: int = strawberry.field(description="Height")
    width: int = strawberry.field(description="In centimetres, from the floor plan.")


@strawberry.type
class WallQuery:
    @strawberry.field(description="One wall, by number. At most 3 characters.")
    def wall(
        self,
        number: Annotated[int, strawberry.argument(description="1 for the north wall, clockwise.")],
        paint: PaintInput | None = None,
    ) -> Wall:
        return Wall(height=250, width=400)

    @strawberry.field(description="At most 3 characters.")
    def walls(self) -> list[Wall]:
        return []


def test_the_check_names_each_undocumented_element() -> None:
    built = strawberry.Schema(query=WallQuery)._schema
    found = undocumented(built, {"Boolean": "", "Int": "", "String": ""})
    assert found == [
        "WallQuery: no description",
        "WallQuery.wall(paint): no description",
        "WallQuery.walls: no description",
        "Wall.height: the description only restates the name ('Height')",
        "PaintInput: no description",
        "PaintInput.shade: no description",
        "Shade: no description",
        "Shade.DARK: no description",
        "Shade.LIGHT: no description",
    ]


def test_documented_enum_refuses_an_undescribed_member() -> None:
    class Size(Enum):
        SMALL = "SMALL"
        LARGE = "LARGE"

    with pytest.raises(ValueError, match="Size: no description for LARGE"):
        documented_enum(Size, "How big.", {Size.SMALL: "Fits in a hand."})


# ---- access notes ----------------------------------------------------------------------------


def test_access_notes_come_from_the_enforcing_permission(schema: Schema) -> None:
    noted = 0
    for type_ in schema._schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for name, field in type_.fields.items():
            definition = field.extensions.get("strawberry-definition")
            for extension in getattr(definition, "extensions", ()):
                if isinstance(extension, PermissionExtension):
                    for permission in extension.permissions:
                        noted += 1
                        note = permission.access_note  # type: ignore[attr-defined]
                        assert (field.description or "").endswith(note), f"{type_.name}.{name}"
    assert noted >= 80


def test_printed_schema_shows_each_kind_of_access(schema: Schema) -> None:
    sdl = schema.as_str()
    assert (
        '"""The signed-in user. Requires: a signed-in user."""\n'
        "  me: User! @auth @hasScope(scopes: [USERS_READ])\n" in sdl
    )
    assert re.search(r"Requires: PLATFORM_ADMIN\.(\n  )?\"\"\"\n  tenants\(", sdl)
    assert re.search(r"Access: anyone, signed in or not\.(\n  )?\"\"\"\n  tenantBySlug\(", sdl)
    assert re.search(
        r"Requires: TENANT_ADMIN in the tenant \(or PLATFORM_ADMIN\), or the permission users:read\."
        r"(\n  )?\"\"\"\n  users\(",
        sdl,
    )


@strawberry.type
class PingQuery:
    @strawberry.field(description="Answers pong", extensions=access(AUTHENTICATED))
    def ping(self) -> str:
        return "pong"

    @strawberry.field(extensions=access(HasRole(Role.MANAGER, Role.TENANT_ADMIN)))
    def pong(self) -> str:
        return "ping"

    @strawberry.field(extensions=access(HasRole(Role.TENANT_ADMIN)))
    def pang(self) -> str:
        return "ping"

    @strawberry.field(description="Open to all.", extensions=access(PUBLIC))
    def pung(self) -> str:
        return "ping"


def test_access_note_is_added_once_however_often_the_schema_is_described() -> None:
    built = strawberry.Schema(query=PingQuery)._schema
    for _ in range(2):
        describe_access(built)
        fields = built.query_type.fields  # type: ignore[union-attr]
        assert fields["ping"].description == "Answers pong. Requires: a signed-in user."
        assert (
            fields["pong"].description
            == "Requires: MANAGER or TENANT_ADMIN in the tenant (or PLATFORM_ADMIN)."
        )
        assert fields["pang"].description == "Requires: TENANT_ADMIN in the tenant (or PLATFORM_ADMIN)."
        assert fields["pung"].description == "Open to all. Access: anyone, signed in or not."


# ---- breaking-change check -------------------------------------------------------------------

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


class SchemaHistory:
    """A throwaway git repository whose commits are versions of schema.graphql."""

    def __init__(self, path: Path, script: Path) -> None:
        self.path, self.script = path, script
        self.env = {**os.environ, **GIT_IDENTITY}
        self._git("init", "-q")

    def _git(self, *args: str) -> None:
        subprocess.run(["git", *args], cwd=self.path, env=self.env, check=True, capture_output=True)

    def commit(self, sdl: str) -> None:
        (self.path / "schema.graphql").write_text(sdl)
        self._git("add", "schema.graphql")
        self._git("commit", "-q", "-m", "schema")

    def check(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(self.script)],
            cwd=self.path,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )


def test_check_schema_refuses_removals_unless_deprecated_first(repo_root: Path, tmp_path: Path) -> None:
    assert shutil.which("git") is not None
    history = SchemaHistory(tmp_path, repo_root / "scripts" / "check-schema.sh")
    sdl = (repo_root / "schema.graphql").read_text()
    me = "  me: User! @auth @hasScope(scopes: [USERS_READ])\n"
    found = re.search(r'  """[^"]*"""\n' + re.escape(me), sdl)
    assert found is not None and sdl.count(me) == 1
    described_me = found.group(0)

    history.commit(sdl)
    first = history.check()
    assert first.returncode == 0, first.stderr
    assert "skipped: no commit HEAD~1" in first.stdout

    history.commit(sdl.replace(me, me + '  """Added."""\n  version: String! @public\n'))
    added = history.check()
    assert added.returncode == 0, added.stdout + added.stderr
    assert "Field version was added to object type Query" in added.stdout
    assert "No breaking changes detected" in added.stdout

    history.commit(sdl.replace(described_me, ""))
    removed = history.check()
    assert removed.returncode == 1, removed.stdout + removed.stderr
    assert "Field me was removed from object type Query" in removed.stdout
    assert "Field version was removed from object type Query" in removed.stdout
    assert "Detected 2 breaking changes" in removed.stderr + removed.stdout

    history.commit(sdl)  # the removal is reverted, then done the accepted way
    history.commit(
        sdl.replace(
            me, '  me: User! @auth @hasScope(scopes: [USERS_READ]) @deprecated(reason: "Use user.")\n'
        )
    )
    deprecated = history.check()
    assert deprecated.returncode == 0, deprecated.stdout + deprecated.stderr
    assert "Field Query.me is deprecated" in deprecated.stdout

    history.commit(re.sub(r'"""(.)', r'"""Reworded: \1', sdl.replace(described_me, ""), count=1))
    deprecated_then_removed = history.check()
    assert deprecated_then_removed.returncode == 0, deprecated_then_removed.stdout
    assert "Field me (deprecated) was removed from object type Query" in deprecated_then_removed.stdout
    assert "to Reworded: " in deprecated_then_removed.stdout  # a description change passes
