"""What a question about a product asks: the product itself (what it is made of, how to use or care for it, its size,
where it comes from, how long it keeps, its guarantee), which its page answers, or its stock and price, which its card
answers. Read by meaning, not by words: the sub-intents of the labelled product utterances of ``knowledge/intents``
nearest the question (``core/agents/data/response.json``, ``product_sub_intents``), so a phrasing in any of the
desk's languages, about any kind of product, lands near its kin."""

from __future__ import annotations

from functools import lru_cache

from core import lexicon
from core.agents.labelled_neighbours import nearest_sub_intents

_DATA = lexicon.load("response")["product_sub_intents"]


@lru_cache(maxsize=1024)
def _nearest(text: str) -> tuple[str, ...]:
    return tuple(nearest_sub_intents(text, frozenset(_DATA["among"]), int(_DATA["neighbours"])))


def asks_about_product(text: str) -> bool:
    """Whether most of the question's nearest labelled product utterances ask about the product itself."""
    if not text.strip():
        return False
    nearest = _nearest(text)
    return sum(label in _DATA["itself"] for label in nearest) * 2 > len(nearest)


def asks_origin(text: str) -> bool:
    """Whether the question asks where the product comes from: enough of its nearest labelled product utterances do."""
    return bool(text.strip()) and _nearest(text).count(_DATA["origin"]) >= int(_DATA["origin_least"])
