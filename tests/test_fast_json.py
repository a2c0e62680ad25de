"""core/fast_json.py: orjson where it can, the standard library for what only it accepts."""

from __future__ import annotations

import json
import math

import pytest

from core import fast_json


def test_loads_takes_what_json_allows_and_orjson_refuses() -> None:
    assert fast_json.loads('{"big": 1180591620717411303424, "small": -36893488147419103232}') == {
        "big": 2**70,
        "small": -(2**65),
    }
    assert math.isnan(fast_json.loads("NaN"))
    assert fast_json.loads('"\\ud800"') == "\ud800"
    assert fast_json.loads(b'{"a": [1, 2.5, "\\u00e9"]}') == {"a": [1, 2.5, "é"]}


def test_loads_still_refuses_what_is_not_json() -> None:
    with pytest.raises(json.JSONDecodeError):
        fast_json.loads("{not json")


def test_dumps_writes_compact_utf_8_and_falls_back_for_big_integers_and_other_keys() -> None:
    assert fast_json.dumps({"a": "é", "b": [1, None, True]}) == '{"a":"é","b":[1,null,true]}'.encode()
    assert fast_json.dumps({"big": 2**70}) == b'{"big":1180591620717411303424}'
    assert json.loads(fast_json.dumps({1: "one"})) == {"1": "one"}
