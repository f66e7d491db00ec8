"""Text normal forms shared by detection, known-entity matching and token keys (length-preserving folding)."""

from __future__ import annotations

import functools
import re
import unicodedata

_DIGITS = re.compile(r"\d")


@functools.lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    base = unicodedata.normalize("NFD", char)[0].lower()
    return base if len(base) == 1 else char.lower()


def fold(text: str) -> str:
    """Lower-case without accents, one character for one character, so offsets stay valid."""
    if text.isascii():
        return text.lower()
    return "".join(_fold_char(c) for c in text)


def digits(text: str) -> str:
    return "".join(_DIGITS.findall(text))


def compact(text: str) -> str:
    """Folded, without spaces and punctuation: ``"H2G 1M9"`` and ``"h2g-1m9"`` become ``"h2g1m9"``."""
    return re.sub(r"[\W_]+", "", fold(text))
