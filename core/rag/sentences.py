"""Sentence boundaries of a shop's text in English, French and Spanish.

A full stop ends a sentence unless it ends an abbreviation ("EE. UU.", "p. ex.", "Mr.", "Co.") or sits inside a
bracket ("(… even opened. See that page.)"): a sentence break is a full stop, question or exclamation mark followed
by a capital, a figure or an opening quote, outside any bracket, that the kept segmenter (pysbd) of every one of
the three languages also ends a sentence at (or that a closing bracket or quote follows). A page's language is not
known when it is split, and an abbreviation of any of the three languages is read as one.
"""

from __future__ import annotations

import functools
import re
import threading

import pysbd

# A candidate break: the space after ".", "!" or "?" (and a closing bracket, quote or emphasis) before what may start
# a sentence.
_CLOSING = r"[)\]\"”»*_]"
_BREAK = re.compile(rf"(?:(?<=[.!?])|(?<=[.!?]{_CLOSING})|(?<=[.!?]{_CLOSING}{_CLOSING}))\s+"
                    r"(?=[A-ZÀ-ÖØ-Þ¿¡0-9\"“«(*_])")
_LANGUAGES = ("en", "fr", "es")
# The word before a full stop that may be an abbreviation: short ("Co.", "EE.", "p.", "Mme.", "tél.") or dotted
# inside ("U.S.", "p.ex."). A stop after a longer word ends its sentence without asking the segmenters, which are
# slow (a few milliseconds a paragraph each).
_ABBREVIATION_LIKE = re.compile(r"(?:^|[\s(\[\"“«'])(?:[^\W\d_]{1,5}|[^\W\d_]+(?:\.[^\W\d_]+)+)\.$")
_OPEN, _CLOSE = "([{", ")]}"


_LOCAL = threading.local()  # a segmenter keeps the text it is splitting: one per thread


def _segmenter(language: str) -> pysbd.Segmenter:
    segmenters = _LOCAL.__dict__.setdefault("segmenters", {})
    if language not in segmenters:
        segmenters[language] = pysbd.Segmenter(language=language, clean=False, char_span=True)
    return segmenters[language]


def _starts(text: str, language: str) -> set[int]:
    """Where the language's segmenter starts a sentence (at its first non-space character)."""
    starts = set()
    for span in _segmenter(language).segment(text):
        start = span.start
        while start < len(text) and text[start].isspace():
            start += 1
        starts.add(start)
    return starts


def _bracket_depth(text: str, end: int) -> int:
    depth = 0
    for ch in text[:end]:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE and depth:
            depth -= 1
    return depth


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text`` (a paragraph or one line of it), in order, stripped."""
    return list(_split(text))


@functools.lru_cache(maxsize=16384)
def _split(text: str) -> tuple[str, ...]:
    # (a page, its chunks and the pairs of chunks import embeds share their lines: each line is split once)
    breaks = [m for m in _BREAK.finditer(text) if _bracket_depth(text, m.start()) == 0]
    # A stop closed by a bracket or a quote ends no abbreviation (the segmenters, which never break there, are not
    # asked), nor does a "?", a "!" or a stop after a word no abbreviation is like.
    sure = {m.end() for m in breaks if text[m.start() - 1] != "." or not _ABBREVIATION_LIKE.search(
        text[max(0, m.start() - 40):m.start()])}
    agreed = {m.end() for m in breaks} - sure
    for language in _LANGUAGES:
        if not agreed:
            break
        agreed &= _starts(text, language)
    candidates = sorted(agreed | sure)
    parts, begin = [], 0
    for position in [*candidates, len(text)]:
        part = text[begin:position].strip()
        if part:
            parts.append(part)
        begin = position
    return tuple(parts)
