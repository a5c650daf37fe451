"""collectors.json_decode: msgspec's speed, the standard library's answers."""

from __future__ import annotations

import json

import pytest

from collectors.json_decode import loads
from tests.fakes.server import deep_json

SAME_AS_STDLIB = [
    b'[{"id": "1", "content": "<p>caf\\u00e9 \\ud83d\\udcda</p>", "tags": [], "edited_at": null}]',
    b'["\\ud83d alone"]',  # a lone surrogate: msgspec refuses the document, json reads it (clean_text repairs it)
    b'{"n": 1e999, "m": -1e999}',  # past a double: inf to json, an error to msgspec
    b'{"big": 123456789012345678901234567890, "a": 1, "a": 2}',
    '{"é": "text, not bytes"}',
    b"  [] \n",
]


@pytest.mark.parametrize("data", SAME_AS_STDLIB)
def test_loads_gives_what_json_loads_gives(data: bytes | str) -> None:
    assert loads(data) == json.loads(data)
    assert repr(loads(data)) == repr(json.loads(data))


@pytest.mark.parametrize("data", [b"", b"[1,", b"<html>", b"NaNx", b"\xff\xfe{"])
def test_malformed_input_is_a_value_error(data: bytes) -> None:
    with pytest.raises(ValueError):
        loads(data)


def test_nesting_deeper_than_the_stack_is_a_recursion_error() -> None:
    with pytest.raises(RecursionError):
        loads(deep_json(100_000))
