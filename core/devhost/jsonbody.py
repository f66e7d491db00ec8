"""JSON request bodies the local host reads itself (admin invocation, the Durable HTTP API): strict JSON with
bounded nesting and number length, so that no body can make the host fail instead of answering 400."""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 64
MAX_NUMBER_CHARS = 100

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
_OPENERS = frozenset(b"[{")


class JsonBodyError(ValueError):
    """The body is not acceptable JSON; the message says why in plain words."""


def nesting_depth(raw: bytes) -> int:
    """Deepest array/object nesting of a JSON text (brackets inside strings do not count)."""
    skeleton = _NOT_BRACKET.sub(b"", _STRING.sub(b"", raw))
    depth = deepest = 0
    for byte in skeleton:
        if byte in _OPENERS:
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _number(text: str, convert: type) -> Any:
    if len(text) > MAX_NUMBER_CHARS:
        raise JsonBodyError(f"The request body holds a number longer than {MAX_NUMBER_CHARS} characters.")
    value = convert(text)
    if isinstance(value, float) and not math.isfinite(value):
        raise JsonBodyError("The request body holds a number too large to represent.")
    return value


def _constant(name: str) -> Any:
    raise JsonBodyError(f"The request body holds {name}, which is not JSON.")


def parse_json(data: bytes) -> Any:
    """The value of a JSON body, or JsonBodyError."""
    if nesting_depth(data) > MAX_DEPTH:
        raise JsonBodyError(f"The request body nests arrays or objects deeper than {MAX_DEPTH} levels.")
    try:
        return json.loads(data, parse_int=lambda t: _number(t, int), parse_float=lambda t: _number(t, float),
                          parse_constant=_constant)
    except JsonBodyError:
        raise
    except UnicodeDecodeError:
        raise JsonBodyError("The request body is not UTF-8 JSON.") from None
    except json.JSONDecodeError as exc:
        raise JsonBodyError(f"The request body is not valid JSON (line {exc.lineno}, column {exc.colno}).") from None
    except (ValueError, RecursionError):
        raise JsonBodyError("The request body is not JSON the host can read.") from None
