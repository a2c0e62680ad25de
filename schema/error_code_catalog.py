"""``errorCodes``: every error-code enum of schema/error_codes.py as a list of its values, so that a
client (or a gateway's composition) finds each enum used by a field rather than defined for nothing;
the codes themselves stay Strings where errors carry them, so that adding one never breaks a client."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry

from schema.error_codes import ERROR_CODES

# Each enum of ERROR_CODES (in its order): the field listing its values, and where they appear.
_FIELDS: tuple[tuple[str, str], ...] = (
    ("errors", "`extensions.code` of top-level errors."),
    ("refusalReasons", "`extensions.reason` of an API key or service token refused."),
    ("money", "userError codes of amounts and currencies."),
    ("text", "userError codes of text inputs."),
    ("identity", "userError codes of identity mutations."),
    ("catalog", "userError codes of catalog mutations."),
    ("orders", "userError codes of order mutations."),
    ("billing", "userError codes of billing mutations."),
    ("dns", "userError codes of DNS mutations."),
    ("provisioning", "userError codes of provisioning mutations."),
    ("streams", "userError codes of live-stream mutations."),
    ("platform", "userError codes of platform mutations."),
    ("tickets", "userError codes of support-ticket mutations."),
    ("notifications", "userError codes of notification mutations."),
)


def _values(enum: type[Enum], name: str, description: str) -> Any:
    values = list(enum)
    return strawberry.field(name=name, default_factory=lambda: values, description=description)


def _catalogue() -> type:
    if len(_FIELDS) != len(ERROR_CODES):
        raise RuntimeError("schema/error_code_catalog.py: one field per enum of ERROR_CODES")
    namespace: dict[str, Any] = {"__annotations__": {}}
    for (name, description), enum in zip(_FIELDS, ERROR_CODES, strict=True):
        attribute = f"code_list_{name}"
        namespace["__annotations__"][attribute] = list[enum]  # type: ignore[valid-type]
        namespace[attribute] = _values(enum, name, description)
    return strawberry.type(
        type("ErrorCodes", (), namespace),
        description="Every code an error may carry, by where it appears; each value described in its enum.",
    )


ErrorCodes = _catalogue()
