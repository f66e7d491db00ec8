"""Bounded JSON parsing for everything that arrives from outside: request and webhook bodies, queue messages,
headers.

``loads`` refuses, with a ``JsonRejected`` (a ``ValueError``) whose message names the problem and never quotes the
input:

- nesting deeper than ``MAX_DEPTH`` arrays/objects (checked by one scan of the text outside strings, before the
  standard parser could recurse into it);
- a number with more than ``MAX_NUMBER_DIGITS`` digits, or a float that overflows to infinity;
- the ``NaN`` / ``Infinity`` / ``-Infinity`` literals, which are not JSON;
- text that is not JSON or not UTF-8 (with the line and column where parsing stopped).

The limits are far above anything a shop, a vendor webhook or the platform's own messages send.
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any

MAX_DEPTH = 64
MAX_NUMBER_DIGITS = 40

# A string, or an unterminated one running to the end: each quote starts at most one linear match.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class JsonRejected(ValueError):
    """The input is not JSON within the limits; ``str(exc)`` says why (safe to show to the sender)."""


def _too_long(number: str) -> bool:
    if len(number) <= MAX_NUMBER_DIGITS:
        return False
    mantissa = re.split(r"[eE]", number, maxsplit=1)[0]
    return sum(ch.isdigit() for ch in mantissa) > MAX_NUMBER_DIGITS


def _parse_int(number: str) -> int:
    if _too_long(number):
        raise JsonRejected(f"a number is longer than {MAX_NUMBER_DIGITS} digits")
    return int(number)


def _parse_float(number: str) -> float:
    if _too_long(number):
        raise JsonRejected(f"a number is longer than {MAX_NUMBER_DIGITS} digits")
    value = float(number)
    if not math.isfinite(value):
        raise JsonRejected("a number is out of range")
    return value


def _parse_constant(name: str) -> Any:
    raise JsonRejected(f"{name} is not a JSON value")


def depth(text: str) -> int:
    """The deepest array/object nesting in ``text``, counting brackets outside strings only."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(_STEP[ch] for ch in brackets), default=0)


def _text(data: str | bytes | bytearray) -> str:
    if isinstance(data, str):
        return data
    try:
        return bytes(data).decode(json.detect_encoding(data))
    except UnicodeDecodeError:
        raise JsonRejected("the text is not UTF-8") from None


def loads(data: str | bytes | bytearray) -> Any:
    """``json.loads`` within the limits above; every failure is a ``JsonRejected``."""
    text = _text(data)
    if depth(text) > MAX_DEPTH:
        raise JsonRejected(f"nesting deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
    except JsonRejected:
        raise
    except json.JSONDecodeError as exc:
        raise JsonRejected(f"not valid JSON (line {exc.lineno}, column {exc.colno})") from None
    except (ValueError, RecursionError):
        raise JsonRejected("not valid JSON") from None
