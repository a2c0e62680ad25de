"""``errorCodes``: every error-code enum of schema/error_codes.py as a list of its values, so that a
client (or a gateway's composition) finds each enum used by a field rather than defined for nothing;
the codes themselves stay Strings where errors carry them, so that adding one never breaks a client."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry

from schema.error_codes import (
    ERROR_CODES,
    BillingErrorCode,
    CatalogErrorCode,
    DnsErrorCode,
    ErrorCode,
    IdentityErrorCode,
    MoneyErrorCode,
    NotificationErrorCode,
    OrderErrorCode,
    PlatformErrorCode,
    ProvisioningErrorCode,
    RefusalReason,
    StreamErrorCode,
    TextErrorCode,
    TicketErrorCode,
)

# Each enum of ERROR_CODES: the field listing its values, and where they appear.
_FIELDS: dict[type[Enum], tuple[str, str]] = {
    ErrorCode: ("errors", "`extensions.code` of top-level errors."),
    RefusalReason: ("refusalReasons", "`extensions.reason` of an API key or service token refused."),
    MoneyErrorCode: ("money", "userError codes of amounts and currencies."),
    TextErrorCode: ("text", "userError codes of text inputs."),
    IdentityErrorCode: ("identity", "userError codes of identity mutations."),
    CatalogErrorCode: ("catalog", "userError codes of catalog mutations."),
    OrderErrorCode: ("orders", "userError codes of order mutations."),
    BillingErrorCode: ("billing", "userError codes of billing mutations."),
    DnsErrorCode: ("dns", "userError codes of DNS mutations."),
    ProvisioningErrorCode: ("provisioning", "userError codes of provisioning mutations."),
    StreamErrorCode: ("streams", "userError codes of live-stream mutations."),
    PlatformErrorCode: ("platform", "userError codes of platform mutations."),
    TicketErrorCode: ("tickets", "userError codes of support-ticket mutations."),
    NotificationErrorCode: ("notifications", "userError codes of notification mutations."),
}


def _values(enum: type[Enum], name: str, description: str) -> Any:
    values = list(enum)
    return strawberry.field(name=name, default_factory=lambda: values, description=description)


def _catalogue() -> type:
    if set(_FIELDS) != set(ERROR_CODES):
        raise RuntimeError("schema/error_code_catalog.py: one field per enum of ERROR_CODES")
    namespace: dict[str, Any] = {"__annotations__": {}}
    for enum in ERROR_CODES:
        name, description = _FIELDS[enum]
        attribute = f"code_list_{name}"
        namespace["__annotations__"][attribute] = list[enum]  # type: ignore[valid-type]
        namespace[attribute] = _values(enum, name, description)
    return strawberry.type(
        type("ErrorCodes", (), namespace),
        description="Every code an error may carry, by where it appears; each value described in its enum.",
    )


ErrorCodes = _catalogue()
