"""Words and their features for the learned name / address detector (``core.pii.ner``).

A message is cut into words and single punctuation marks with their character offsets; each gets the features a
CRF reads: the folded word, its shape, affixes, capitalisation, digits, membership of the given / family name lists
in ``data/``, its place in the line and the sentence, and the same for its neighbours.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .name_lists import census_family, census_given, family_names, given_names
from .normalize import fold

_TOKEN = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*|[^\w\s]|_+")


class Token(NamedTuple):
    start: int
    end: int
    text: str


def tokenize(text: str) -> list[Token]:
    return [Token(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]


def _shape(word: str) -> str:
    out = []
    for char in word:
        kind = "X" if char.isupper() else "x" if char.isalpha() else "d" if char.isdigit() else char
        if not out or out[-1] != kind:
            out.append(kind)
    return "".join(out)[:6]


def _word_features(token: Token) -> list[str]:
    word = token.text
    key = fold(word)
    feats = [f"w={key}", f"sh={_shape(word)}", f"s3={key[-3:]}", f"p3={key[:3]}", f"len={min(len(word), 8)}"]
    if word[:1].isupper():
        feats.append("title" if not word.isupper() or len(word) == 1 else "upper")
    if word.isdigit():
        feats.append(f"digits={min(len(word), 6)}")
    elif any(c.isdigit() for c in word):
        feats.append("hasdigit")
    if key in given_names():
        feats.append("given")
    elif key in census_given():
        feats.append("cgiven")
    if key in family_names():
        feats.append("family")
    elif key in census_family():
        feats.append("cfamily")
    return feats


def features(text: str, tokens: list[Token]) -> list[list[str]]:
    """The CRF's features of every token of ``text``."""
    own = [_word_features(t) for t in tokens]
    out: list[list[str]] = []
    for i, token in enumerate(tokens):
        feats = ["bias", *own[i]]
        gap_before = text[tokens[i - 1].end:token.start] if i else "\n"
        if "\n" in gap_before:
            feats.append("line_start")
        if not i or tokens[i - 1].text in ".!?¡¿":
            feats.append("sentence_start")  # a capital here says less about a name
        if i + 1 == len(tokens) or "\n" in text[token.end:tokens[i + 1].start]:
            feats.append("line_end")
        if not gap_before and i:
            feats.append("glued")
        for offset in (-2, -1, 1, 2):
            j = i + offset
            if 0 <= j < len(tokens):
                neighbour = own[j]
                feats.append(f"{offset}:{neighbour[0]}")
                feats.append(f"{offset}:{neighbour[1]}")
                feats.extend(f"{offset}:{f}" for f in neighbour[5:] if not f.startswith("digits"))
            else:
                feats.append(f"{offset}:edge")
        if i:
            feats.append(f"-1|0={own[i - 1][0][2:]}|{own[i][0][2:]}")
        if i > 1:
            feats.append(f"-2|-1={own[i - 2][0][2:]}|{own[i - 1][0][2:]}")
        out.append(feats)
    return out
