"""The catalog's input checks: field problems of SKUs, slugs, texts and URLs, and the KEEP marker of
update fields that were not given."""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from core.errors import FieldProblem, InvalidInput
from core.lengths import MAX_URL_LENGTH
from services.catalog.errors import CatalogErrorCode

MAX_SKU_LENGTH = 64
MAX_SLUG_LENGTH = 100
SKU_PATTERN = re.compile(rf"^[A-Z0-9](?:[A-Z0-9._-]{{0,{MAX_SKU_LENGTH - 2}}}[A-Z0-9])?$")
SLUG_PATTERN = re.compile(rf"^[a-z0-9](?:[a-z0-9-]{{0,{MAX_SLUG_LENGTH - 2}}}[a-z0-9])?$")


class Keep(enum.Enum):
    """An update field that was not given: the stored value stays."""

    KEEP = "KEEP"


KEEP = Keep.KEEP


def set_given(row: Any, fields: Any, *names: str, strip: bool = True) -> None:
    """Copies the named ``fields`` that were given (not KEEP) onto ``row``; text stripped unless
    ``strip`` is off (a StrEnum is text too)."""
    for name in names:
        value = getattr(fields, name)
        if not isinstance(value, Keep):
            setattr(row, name, value.strip() if strip and isinstance(value, str) else value)


def problem(field: str, code: CatalogErrorCode, message: str) -> FieldProblem:
    return FieldProblem(("input", *field.split(".")), code, message)


def raise_if(problems: Sequence[FieldProblem | None]) -> None:
    found = [p for p in problems if p is not None]
    if found:
        raise InvalidInput(*found)


def normalise_sku(sku: str) -> str:
    return sku.strip().upper()


def sku_problem(sku: str) -> FieldProblem | None:
    if not SKU_PATTERN.match(normalise_sku(sku)):
        return problem(
            "sku",
            CatalogErrorCode.INVALID_SKU,
            f"Use 1-{MAX_SKU_LENGTH} letters, digits, dots, dashes or underscores; start and end with a "
            "letter or digit.",
        )
    return None


def text_problem(field: str, value: str, limit: int, *, required: bool = True) -> FieldProblem | None:
    if required and not value.strip():
        return problem(field, CatalogErrorCode.REQUIRED, "This cannot be empty.")
    if len(value) > limit:
        return problem(field, CatalogErrorCode.TOO_LONG, f"At most {limit} characters.")
    return None


def url_problem(field: str, url: str) -> FieldProblem | None:
    parts = urlsplit(url.strip()) if len(url) <= MAX_URL_LENGTH else None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or any(ch.isspace() for ch in url.strip())
    ):
        return problem(
            field,
            CatalogErrorCode.INVALID_URL,
            f"Use an absolute http(s) URL of at most {MAX_URL_LENGTH} characters.",
        )
    return None


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:MAX_SLUG_LENGTH].strip("-")


def slug_problem(slug: str) -> FieldProblem | None:
    if not SLUG_PATTERN.match(slug):
        return problem(
            "slug",
            CatalogErrorCode.INVALID_SLUG,
            f"Use 1-{MAX_SLUG_LENGTH} lowercase letters, digits and inner hyphens.",
        )
    return None
