"""The ``code`` of every userError of the platform-operations mutations."""

from __future__ import annotations

import enum


class PlatformErrorCode(enum.StrEnum):
    TOO_LONG = "TOO_LONG"  # a text over its maximum
    REQUIRED = "REQUIRED"  # an empty title, content, name, key, url or message
    INVALID_WINDOW = "INVALID_WINDOW"  # an announcement that ends before it starts, or a time without offset
    INVALID_NAME = "INVALID_NAME"  # a flag name or help-link key not of a-z, 0-9, '-', '_', '.'
    INVALID_URL = "INVALID_URL"  # a help link that is not http(s)
    TOO_LARGE = "TOO_LARGE"  # a client error report over its size
