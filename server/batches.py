"""What a batched request (a JSON array of operations) may hold. strawberry runs each item of the
array as an operation but checks only its count, in plain text: an item that is no operation
object (a number, a string, a `query` that is no string) failed with INTERNAL_SERVER_ERROR."""

from __future__ import annotations

from collections.abc import Sequence


def batch_problem(items: Sequence[object], most: int) -> str | None:
    """Why ``items`` is no batch of at most ``most`` operations; None if it is one."""
    if not items:
        return "The batch is empty: send at least one operation."
    if len(items) > most:
        return f"A batch holds at most {most} operations."
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("query"), str):
            return f"Operation {number} of the batch is not an object with a `query` string."
        if not isinstance(item.get("operationName"), str | None):
            return f"The `operationName` of operation {number} of the batch must be a string or null."
        for key in ("variables", "extensions"):
            if not isinstance(item.get(key), dict | None):
                return f"The `{key}` of operation {number} of the batch must be an object or null."
    return None
