"""The maximum length, in characters, of the string inputs shared across domains. Services check
them; schema/lengths.py assigns one (these or a domain's own) to every string input of the schema
and states it in the field's description."""

from __future__ import annotations

import enum

from core.errors import invalid

MAX_EMAIL_LENGTH = 254  # RFC 5321: a forward path holds at most 254 characters
# argon2 hashes whatever it is given: a longer password is refused before any hashing.
MAX_PASSWORD_LENGTH = 256
MAX_NAME_LENGTH = 200  # people, tenants, brands, categories, plans
MAX_TENANT_SLUG_LENGTH = 63  # one DNS label
MAX_SEARCH_LENGTH = 200  # every free-text search filter
MAX_PREFIX_LENGTH = 100  # autocomplete prefixes
MAX_DESCRIPTION_LENGTH = 20_000  # the longest free text: catalog descriptions
MAX_URL_LENGTH = 2000
MAX_TOKEN_LENGTH = 256  # opaque tokens handed out by us (refresh tokens are 46 characters)
MAX_DISCOUNT_CODE_LENGTH = 64
MAX_DOCUMENT_NUMBER_LENGTH = 32  # order and invoice numbers
CURRENCY_CODE_LENGTH = 3  # ISO 4217 alphabetic codes
# Relay global ids are ~80 characters, bare UUIDs 36.
MAX_ID_LENGTH = 200
# A page cursor encodes the row's sort value (a name of up to 300 characters, JSON-escaped) and id.
MAX_CURSOR_LENGTH = 8000


class TextErrorCode(enum.StrEnum):
    """userError code of any text input that is over its maximum length (the same value as the
    domains' own TOO_LONG)."""

    TOO_LONG = "TOO_LONG"


def bounded_text(field: str, value: str | None, maximum: int) -> str:
    """``value`` stripped ("" when absent), at most ``maximum`` characters, else the userError
    TOO_LONG naming ``field``: the services' own check of a text the schema's table
    (schema/lengths.py BY_SERVICES) leaves to them."""
    text = (value or "").strip()
    if len(text) > maximum:
        raise invalid(field, TextErrorCode.TOO_LONG, f"`{field}` has at most {maximum} characters.")
    return text
