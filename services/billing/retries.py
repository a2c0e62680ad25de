"""Provider calls that are retried (refunds, sellers' transfers): how often, how far apart, and how
long a call in flight holds its row."""

from __future__ import annotations

from datetime import timedelta

MAX_ATTEMPTS = 5
CLAIM = timedelta(seconds=120)  # a provider call in flight holds its row this long at most
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)


def backoff(retry_count: int) -> timedelta:
    """30 s, 1 min, 2 min, ... at most an hour."""
    delay: timedelta = FIRST_BACKOFF * 2 ** max(retry_count - 1, 0)
    return min(delay, MAX_BACKOFF)
