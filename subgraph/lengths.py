"""Every string input's maximum length (schema/lengths.py) in its description, and checked before
the resolver runs where no service checks it: a mutation with userErrors answers TOO_LONG naming
the field, anything else BAD_USER_INPUT. Only the fields with such arguments are wrapped."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLField,
    GraphQLID,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLString,
    default_field_resolver,
    get_named_type,
)

from core.errors import BadUserInput
from core.lengths import TextErrorCode
from schema.errors import UserError
from schema.lengths import BEFORE_RESOLVING, BY_SERVICES, CURSOR_ARGUMENTS, CURSOR_LENGTH, ID_LENGTH

Path = tuple[str, ...]
Resolver = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class _Text:
    limit: int


@dataclass(frozen=True, slots=True)
class _Each:
    item: Plan


@dataclass(slots=True)
class _Fields:
    fields: dict[str, Plan] = field(default_factory=dict)


Plan = _Text | _Each | _Fields


def _described(description: str | None, limit: int) -> str:
    note = f"At most {limit} characters."
    if not description:
        return note
    if description.endswith(note):
        return description  # a schema built before (the types are shared)
    return f"{description.rstrip().rstrip('.')}. {note}"


def _unwrapped(type_: Any) -> Any:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return type_


class _Planner:
    """Walks the input types once: describes their limited fields and plans the checks."""

    def __init__(self) -> None:
        self.inputs: dict[str, _Fields | None] = {}

    def plan(
        self,
        type_: GraphQLInputType,
        coordinate: str,
        value: GraphQLInputField | GraphQLArgument,
        *,
        cursor: bool = False,
    ) -> Plan | None:
        """The checks of one input field or argument (its description gets its limit)."""
        type_ = _unwrapped(type_)
        if isinstance(type_, GraphQLList):
            item = self.plan(type_.of_type, coordinate, value, cursor=cursor)
            return _Each(item) if item is not None else None
        if isinstance(type_, GraphQLInputObjectType):
            return self.input_object(type_)
        if type_ is GraphQLID:
            return _Text(ID_LENGTH)
        if type_ is not GraphQLString:
            return None
        if cursor:
            return _Text(CURSOR_LENGTH)  # stated once, on Edge.cursor: clients pass ours back
        limit = BEFORE_RESOLVING.get(coordinate)
        documented = limit or BY_SERVICES.get(coordinate)
        if documented is not None:
            value.description = _described(value.description, documented)
        return _Text(limit) if limit is not None else None

    def input_object(self, type_: GraphQLInputObjectType) -> _Fields | None:
        if type_.name in self.inputs:
            return self.inputs[type_.name]
        planned = self.inputs[type_.name] = _Fields()  # first, so that a cycle ends here
        for name, input_field in type_.fields.items():
            inner = self.plan(input_field.type, f"{type_.name}.{name}", input_field)
            if inner is not None:
                planned.fields[name] = inner
        if not planned.fields:
            self.inputs[type_.name] = None
            return None
        return planned


def _over(value: Any, plan: Plan, path: Path) -> Iterator[tuple[Path, int]]:
    if value is None:
        return
    if isinstance(plan, _Text):
        if isinstance(value, str) and len(value) > plan.limit:
            yield path, plan.limit
    elif isinstance(plan, _Each):
        if isinstance(value, list):
            for index, item in enumerate(value):
                yield from _over(item, plan.item, (*path, str(index)))
    elif isinstance(value, Mapping):
        for name, inner in plan.fields.items():
            yield from _over(value.get(name), inner, (*path, name))


def _over_limits(arguments: Mapping[str, Any], plans: Mapping[str, Plan]) -> list[tuple[Path, int]]:
    return [found for name, plan in plans.items() for found in _over(arguments.get(name), plan, (name,))]


def _refuse(over: list[tuple[Path, int]]) -> Any:
    path, limit = over[0]
    raise BadUserInput(f"{'.'.join(path)} has at most {limit} characters.")


def _payload_answer(field_: GraphQLField) -> Answer | None:
    """Builds the field's payload with the userErrors, when its type has userErrors."""
    payload = get_named_type(field_.type)
    if not isinstance(payload, GraphQLObjectType) or "userErrors" not in payload.fields:
        return None
    payload_class = payload.extensions["strawberry-definition"].origin
    payload_class(user_errors=[])  # fails at build time, not in a request, if it cannot be built

    def answer(over: list[tuple[Path, int]]) -> Any:
        errors = [
            UserError(field=list(path), code=TextErrorCode.TOO_LONG, message=f"At most {limit} characters.")
            for path, limit in over
        ]
        return payload_class(user_errors=errors)

    return answer


Answer = Callable[[list[tuple[Path, int]]], Any]


class _Guarded:
    """A resolver (or subscribe function) behind the length checks of its arguments."""

    def __init__(self, call: Resolver, plans: Mapping[str, Plan], answer: Answer) -> None:
        self.call, self.plans, self.answer = call, plans, answer

    def __call__(self, source: Any, info: GraphQLResolveInfo, **arguments: Any) -> Any:
        if over := _over_limits(arguments, self.plans):
            return self.answer(over)
        return self.call(source, info, **arguments)


def limit_string_inputs(schema: GraphQLSchema) -> None:
    """Describes every limited string input and guards the fields whose arguments need a check."""
    planner = _Planner()
    for type_ in schema.type_map.values():
        if isinstance(type_, GraphQLInputObjectType) and not type_.name.startswith("__"):
            planner.input_object(type_)
    for type_ in list(schema.type_map.values()):
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for name, field_ in type_.fields.items():
            plans = {
                argument_name: plan
                for argument_name, argument in field_.args.items()
                if (
                    plan := planner.plan(
                        argument.type,
                        f"{type_.name}.{name}({argument_name}:)",
                        argument,
                        cursor=argument_name in CURSOR_ARGUMENTS,
                    )
                )
            }
            if not plans or isinstance(field_.resolve, _Guarded):
                continue
            answer = (_payload_answer(field_) if type_ is schema.mutation_type else None) or _refuse
            field_.resolve = _Guarded(field_.resolve or default_field_resolver, plans, answer)
            if field_.subscribe is not None:
                field_.subscribe = _Guarded(field_.subscribe, plans, _refuse)
