"""JSON documents clients patch (tenant settings, user preferences): RFC 7396 merge patches, and
the checks that keep a stored document readable — nesting bounded without recursion, numbers
finite."""

from __future__ import annotations

import json
from typing import Any


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch: objects merge key by key, a null removes its key, anything
    else (arrays too) replaces. Recursive: check ``nests_deeper`` of the patch first."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def _children(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return list(value.values())
    return value if isinstance(value, list) else []


def nests_deeper(value: Any, limit: int) -> bool:
    """Whether objects and arrays nest more than ``limit`` levels; level by level, not recursively:
    a client's document may nest deeper than the interpreter's stack. A merge nests no deeper than
    its target or its patch."""
    level = [value]
    for _ in range(limit):
        level = [child for node in level for child in _children(node)]
    return any(isinstance(node, dict | list) for node in level)


def compact_json(value: Any) -> str:
    """The document as stored; ValueError for NaN or Infinity, which a request's JSON may carry
    (Python reads them) and JSON columns refuse."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False)
