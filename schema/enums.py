"""Enums registered with a description of the type and of every value (the schema's enums are
defined below the schema layer, where strawberry.enum_value cannot be used)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TypeVar

import strawberry

E = TypeVar("E", bound=enum.Enum)


def documented_enum(
    cls: type[E], description: str, values: Mapping[E, str], *, name: str | None = None
) -> type[E]:
    """Registers ``cls`` as a GraphQL enum; ``values`` describes each member, all of them."""
    missing = [member.name for member in cls if member not in values]
    if missing:
        raise ValueError(f"{cls.__name__}: no description for {', '.join(missing)}")
    strawberry.enum(cls, name=name, description=description)
    by_name = {member.name: text for member, text in values.items()}
    for value in cls.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = by_name[value.name]
    return cls
