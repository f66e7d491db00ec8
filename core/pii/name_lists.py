"""The given / family name lists the learned name detector reads as features (``core.pii.ner_features``).

``data/first_names.txt`` and ``data/surnames.txt`` hold names common in the shops' countries; the US Census lists
(``data/census_*.txt``) are broad but full of everyday words, so they are a weaker hint. Matching ignores case and
accents.
"""

from __future__ import annotations

import functools
from pathlib import Path

from .normalize import fold

_DATA = Path(__file__).parent / "data"


def _load(name: str) -> frozenset[str]:
    words: set[str] = set()
    for line in (_DATA / name).read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            words.update(fold(w) for w in line.split())
    return frozenset(words)


@functools.lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    return _load("first_names.txt")


@functools.lru_cache(maxsize=1)
def family_names() -> frozenset[str]:
    return _load("surnames.txt")


@functools.lru_cache(maxsize=1)
def census_given() -> frozenset[str]:
    """US Census given names: broad but full of everyday words, so a hint next to another clue only."""
    return frozenset(n for n in _load("census_first_names.txt") if len(n) >= 3) - AMBIGUOUS - CENSUS_WORDS


@functools.lru_cache(maxsize=1)
def census_family() -> frozenset[str]:
    return _load("census_surnames.txt") | family_names()


# Given names that are also everyday words, scents or places: a name only with context or a family name after.
AMBIGUOUS = frozenset("""rose rosa amber jade violette clementine iris holly ruby april may june august grace will
mark bill rob olive ginger sage dolores mercedes pilar angel cruz paz luz sol rosario victoria florence france jordan
summer dawn faith hope joy crystal max guy gene eden china paris lima chase brooke sandy frank regis pascal lucky
roman german noel rene""".split())

# Census given names that are everyday English words.
CENSUS_WORDS = frozenset("""sky rich page major young king don art dee ivy sunny lucky star misty dusty rusty candy
honey cherry pepper coral jewel pearl violet lily daisy hazel fern heather autumn winter spring eve mercy patience
prudence charity chance hunter carter mason miles rocky stormy sterling royal prince princess queen duke earl baron
pat sue ray gay love see son sun way else ever more less few much many any all one two three can cannot big little
long short tall fair free bless blessing precious happy merry dear honor justice liberty unique early late even
lane dale glen wood woods field fields brook brooks river rivers lake stone rock hill hills
""".split())
