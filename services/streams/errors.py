"""The ``code`` of every userError of the stream and moderation mutations."""

from __future__ import annotations

import enum


class StreamErrorCode(enum.StrEnum):
    TOO_LONG = "TOO_LONG"  # a title, description, category, tag, reason or details over its maximum
    TITLE_REQUIRED = "TITLE_REQUIRED"  # an empty title
    TOO_MANY_TAGS = "TOO_MANY_TAGS"  # more than 20 tags
    INVALID_TRANSITION = "INVALID_TRANSITION"  # e.g. viewers of a stream that is not LIVE
    INVALID_VIEWER_COUNT = "INVALID_VIEWER_COUNT"  # a negative viewer count
    NOT_FOUND = "NOT_FOUND"  # a reported user or stream that does not exist (or is out of reach)
    ALREADY_RESOLVED = "ALREADY_RESOLVED"  # resolving a report that is no longer PENDING
