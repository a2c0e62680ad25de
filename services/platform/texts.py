"""Checks shared by the platform-operations services: bounded texts, names."""

from __future__ import annotations

import re

from core.errors import invalid
from core.lengths import bounded_text
from services.platform.errors import PlatformErrorCode

MAX_NAME = 64
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")  # MAX_NAME characters


def bounded(field: str, value: str | None, maximum: int, *, required: bool = False) -> str:
    text = bounded_text(field, value, maximum)
    if required and not text:
        raise invalid(field, PlatformErrorCode.REQUIRED, f"Give a {field}.")
    return text


def name(field: str, value: str) -> str:
    text = value.strip().lower()
    if not NAME.match(text):
        raise invalid(
            field,
            PlatformErrorCode.INVALID_NAME,
            f"A {field} is 1 to 64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit.",
        )
    return text
