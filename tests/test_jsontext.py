"""JSON from outside: a document nested too deeply for the parser is malformed, not a crash."""

from __future__ import annotations

import pytest

from strato.jsontext import loads

DEEP = "[" * 100_000 + "]" * 100_000


def test_a_document_is_parsed_as_json_loads_parses_it() -> None:
    assert loads(b'{"a": [1, 2.5, null]}') == {"a": [1, 2.5, None]}


def test_a_document_nested_too_deeply_is_a_value_error_as_any_malformed_one() -> None:
    with pytest.raises(ValueError, match="nests too deeply"):
        loads(DEEP)
    with pytest.raises(ValueError, match="Expecting"):  # a malformed one, as json.loads says
        loads("[1,")
