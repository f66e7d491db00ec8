"""Bounded JSON parsing: depth, number size and non-JSON literals are refused with a reason, never a crash."""

from __future__ import annotations

import json

import pytest

from core import jsonsafe
from core.jsonsafe import MAX_DEPTH, MAX_NUMBER_DIGITS, JsonRejected

DEEP_ARRAY = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a":' * 1500 + "1" + "}" * 1500


@pytest.mark.parametrize(("text", "reason"), [
    (DEEP_ARRAY, f"nesting deeper than {MAX_DEPTH}"),
    (DEEP_OBJECT, f"nesting deeper than {MAX_DEPTH}"),
    ('{"list": ' + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "}", f"nesting deeper than {MAX_DEPTH}"),
    ("1" * 5000, f"longer than {MAX_NUMBER_DIGITS} digits"),
    ('{"n": -' + "9" * (MAX_NUMBER_DIGITS + 1) + "}", f"longer than {MAX_NUMBER_DIGITS} digits"),
    ("[0." + "1" * 5000 + "]", f"longer than {MAX_NUMBER_DIGITS} digits"),
    ("[1e999]", "out of range"),
    ('{"x": NaN}', "NaN is not a JSON value"),
    ("[Infinity]", "Infinity is not a JSON value"),
    ("[-Infinity]", "-Infinity is not a JSON value"),
    ('{"a": 1', "not valid JSON (line 1, column 8)"),
    (b'{"a": "\xff"}', "not UTF-8"),
])
def test_pathological_input_is_rejected_with_its_reason(text, reason):
    with pytest.raises(JsonRejected) as rejected:
        jsonsafe.loads(text)
    assert reason in str(rejected.value)
    assert isinstance(rejected.value, ValueError)  # callers that catch ValueError keep working
    assert len(str(rejected.value)) < 80  # the reason, never the input


def test_the_limits_themselves_are_accepted():
    at_limit = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert jsonsafe.loads(at_limit) == json.loads(at_limit)
    big, fraction = "9" * MAX_NUMBER_DIGITS, "0." + "9" * (MAX_NUMBER_DIGITS - 1)
    assert jsonsafe.loads(f'{{"n": -{big}, "f": {fraction}e-5}}') == {"n": -int(big), "f": float(f"{fraction}e-5")}


def test_brackets_inside_strings_do_not_count_as_nesting():
    text = json.dumps({"note": "[" * 500 + '{"quoted": "\\"[[["' + "{" * 500, "escaped": 'a\\"[[[[' * 50})
    assert jsonsafe.loads(text) == json.loads(text)


def test_ordinary_documents_parse_as_the_standard_parser_does():
    doc = {"id": 5590282591684, "total": "157.10", "ratio": 0.25, "ok": True, "none": None,
           "nested": [{"a": [1, 2, {"b": "ü ✓"}]}], "big": 10 ** 30}
    for data in (json.dumps(doc), json.dumps(doc).encode(), b"\xef\xbb\xbf" + json.dumps(doc).encode()):
        assert jsonsafe.loads(data) == doc
    assert jsonsafe.depth('{"a": [[1], {"b": "]]]"}]}') == 3
