"""What a shop's returns page says can't be returned or exchanged ("personalised items, opened cosmetics and gift
cards are final sale"), and what its pages say of orders that can't be cancelled ("made-to-order and engraved orders
can be cancelled within 24 hours; after that they can't be"), read against an item of an order.

The page is the one the shop's own search finds for that question (``return_exclusions.question`` of
core/agents/data/actions.json, in the customer's language). Its clauses that exclude something are the answering
units the multilingual encoder finds close to the question and that hold a negation, in the unit itself or in its
heading ("What we can't take back" over a list of items). Each such unit names kinds of items, parted at commas
and joining words ("Engraved straps", "anything personalised", "gift cards"). An item is excluded by a kind when
every word of the kind (less the words of the question itself: "items", "returned") is a word of the item's title,
variant, product type or tags, and the encoder finds the item close to the kind. A variant that says the opposite
("No engraving", "Sans gravure") takes its words out of the item.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from core import lexicon
from core.agents.answer_polarity import negative
from core.rag.answer_units import UNIT_VECTORS, Unit
from core.rag.document_texts import DOCUMENT_TEXTS
from core.text import STOPWORDS, fold, strip_markup, tokens

from . import words

_DATA = lexicon.load("actions")["return_exclusions"]
QUESTION: dict[str, str] = lexicon.by_language(_DATA["question"])
CANCEL_QUESTION: dict[str, str] = lexicon.by_language(lexicon.load("actions")["cancel_restrictions"]["question"])
_JOINING = sorted({fold(w) for k, words in _DATA["joining"].items() if k != "note" for w in words}, key=len,
                  reverse=True)
_SEGMENT_BREAK = re.compile(r"\s*(?:[,;:•]|\s[-–—]\s|\.\s)\s*")
_JOIN = re.compile(r"\s+(?:" + "|".join(map(re.escape, _JOINING)) + r")\s+")
_JOIN_START = re.compile(r"^(?:" + "|".join(map(re.escape, _JOINING)) + r")\s+")
#: A part of a list joined by "and" / "or" is a kind of its own only when short ("engraved or custom items"); a
#: longer one carries a condition that may hold for its neighbour too ("creams or butters that have been opened").
KIND_WORDS = 4

#: How close (cosine) an answering unit of the returns page must come to the question to be read as one that says
#: what can't be returned; a unit without a negation is never one.
CLAUSE_SIMILARITY = 0.85
#: How close (cosine, query to passage) the item must come to the kind of item the clause names: conservative, the
#: kind's words must be the item's as well.
ITEM_SIMILARITY = 0.80
PAGES = 2  # the best pages of the search whose units are read
MIN_PAGE_SCORE = 0.3


def _root(word: str) -> str:
    """A word as compared: accent-folded, a plural "s" dropped, cut to 5 letters ("engraved", "engraving" ->
    "engra"; "cards" -> "card")."""
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word[:5]


def _roots(text: str) -> set[str]:
    return {_root(t) for t in tokens(text) if len(t) > 1 and t not in STOPWORDS and not t.isdigit()}


_QUESTION_ROOTS = frozenset(r for text in QUESTION.values() for r in _roots(text))
_CANCEL_ROOTS = frozenset(r for text in CANCEL_QUESTION.values() for r in _roots(text))


@dataclass(frozen=True)
class Item:
    """An order's item as the shop names it."""

    title: str
    variant: str = ""
    product_type: str = ""
    tags: Sequence[str] = ()

    def text(self) -> str:
        return " — ".join(p for p in (self.title, self.variant, self.product_type, ", ".join(self.tags)) if p)

    def roots(self) -> set[str]:
        """The item's words, less those a variant says it has not ("No engraving") and the name of an option whose
        value is a code ("Grade A", "Size 8": every variant of the product has a grade, so it is no kind of item)."""
        variant = [p for p in re.split(r"\s*/\s*", self.variant or "") if p]
        denied = set().union(*(_roots(p) for p in variant if any(negative(p, lang) for lang in QUESTION)))
        said = _roots(" ".join([self.title, *(p for p in variant if not _option_code(p)), self.product_type,
                                *self.tags]))
        return said - denied


def _option_code(part: str) -> bool:
    """Whether a variant's part is an option's name and a one-letter or numeric value ("Grade A", "Size 8")."""
    words = tokens(part)
    return len(words) == 2 and (len(words[1]) == 1 or words[1].isdigit())


def _negative_units(units: list[Unit]) -> list[Unit]:
    """The units that say no, in their text or in their heading ("What we can't take back")."""
    return [u for u in units if any(negative(u.context, lang) for lang in QUESTION)]


def _kind_words(text: str) -> int:
    return len([t for t in tokens(text) if not t.isdigit() and _root(t) not in _QUESTION_ROOTS])


def _with_heads(text: str) -> str:
    """A list in brackets after a word names kinds of that word: "Mats (Raíz Pro, Nube, cork, pilates)" ->
    "Raíz Pro Mats, Nube Mats, cork Mats, pilates Mats" (a pilates reformer is no pilates mat)."""
    return _BRACKETED.sub(lambda m: ", ".join(f"{part.strip()} {m.group(1)}" for part in m.group(2).split(",")
                                              if part.strip()), text)


_BRACKETED = re.compile(r"(\w+)\s*\(([^()]*,[^()]*)\)")


def kinds(unit: Unit) -> list[str]:
    """The kinds of items a clause names (accent-folded, lower case): its text parted at commas, colons and dashes,
    and a part again at its joining words when each piece is short (a few words besides those of the question)."""
    found = []
    for segment in _SEGMENT_BREAK.split(_with_heads(strip_markup(unit.text))):
        segment = _JOIN_START.sub("", fold(segment).strip(" .!?*_\"'“”«»"))
        if not segment:
            continue
        pieces = [p for p in _JOIN.split(segment) if p.strip()]
        short = all(_kind_words(p) <= KIND_WORDS for p in pieces)
        found += pieces if short and len(pieces) > 1 else [segment]
    return found


def excluding_clause(embedder: Any, pages: Sequence[tuple[str, str]], item: Item) -> str | None:
    """The clause of ``pages`` (the returns page's texts, each with its language) that says ``item`` can't be
    returned or exchanged, as written there; None when no clause names it."""
    have = item.roots()
    if not have:
        return None
    queries = dict(zip(QUESTION, embedder.embed_queries(list(QUESTION.values())), strict=True))
    item_vector = None
    for page, language in pages:
        units, vectors = UNIT_VECTORS.get(embedder, page)
        if not units:
            continue
        query = queries.get(language, queries["en"])
        close = [u for u, s in zip(units, vectors @ query, strict=True) if float(s) >= CLAUSE_SIMILARITY]
        for clause in _negative_units(close):
            for kind in kinds(clause):
                wanted = _roots(kind) - _QUESTION_ROOTS
                if not wanted or not wanted <= have:
                    continue
                if item_vector is None:
                    item_vector = embedder.embed_queries([item.text()])[0]
                if float(embedder.embed_passages([kind])[0] @ item_vector) >= ITEM_SIMILARITY:
                    return _quoted([clause])
    return None


def _quoted(units: list[Unit]) -> str:
    text = " ".join(strip_markup(u.text).strip() for u in units)
    return text if text[-1:] in ".!?" else f"{text}."


def _names(unit: Unit, have: set[str]) -> bool:
    """Whether the unit names a word of the item's beyond the question's (an e-mail or a web address in it, which
    may hold the shop's name, names nothing)."""
    text = " ".join(w for w in unit.text.split() if "@" not in w and "://" not in w)
    return bool((_roots(text) - _CANCEL_ROOTS) & have)


def restricting_clause(embedder: Any, pages: Sequence[tuple[str, str]], item: Item) -> str | None:
    """The clause of ``pages`` (the shop's pages on cancelling, each with its language) that says an order holding
    ``item`` can't be cancelled, as written there: a unit close to the question that says no to a cancellation (in
    the words of ``actions.json``) and names a word of the item's own beyond the question's ("Made-to-order, 14k
    gold and engraved orders can be cancelled within 24 hours. After that, the order can't be cancelled."), the
    sentence before it joined when that one names the item; None when no clause names it (a rule for every order,
    "once shipped, an order can't be cancelled", names none)."""
    have = item.roots()
    if not have:
        return None
    queries = dict(zip(CANCEL_QUESTION, embedder.embed_queries(list(CANCEL_QUESTION.values())), strict=True))
    for page, language in pages:
        units, vectors = UNIT_VECTORS.get(embedder, page)
        if not units:
            continue
        scores = vectors @ queries.get(language, queries["en"])
        for index in [i for i, unit in enumerate(units) if float(scores[i]) >= CLAUSE_SIMILARITY]:
            clause = units[index]
            if not _negative_units([clause]) or not words.names_tool(clause.text, "cancel_order"):
                continue
            if _names(clause, have):
                return _quoted([clause])
            before = units[index - 1] if index else None
            if before is not None and before.paragraph == clause.paragraph and _names(before, have) \
                    and (before.line == clause.line or before.kind == clause.kind == "sentence"):
                return _quoted([before, clause])
    return None


def returns_pages(search: Any, store: Any, tenant_id: str, language: str,
                  question: dict[str, str] = QUESTION) -> list[tuple[str, str]]:
    """The shop's pages that best answer which items can't be returned (its returns page; or, with
    ``CANCEL_QUESTION``, which orders can't be cancelled), (full text, language), those found in ``language`` first,
    then those in the other languages (a page in the catalogue's language names the items as their titles do)."""
    hits: dict[str, tuple[Any, str]] = {}
    for lang in [language, *(lang for lang in question if lang != language)]:
        found = [h for h in search.search(tenant_id, question[lang], k=4, lang=lang)
                 if not h.doc_id.startswith("product-") and h.score >= MIN_PAGE_SCORE][:PAGES]
        for h in found:
            hits.setdefault(h.doc_id, (h, lang))
    texts = DOCUMENT_TEXTS.get_many(store, tenant_id, list(hits))
    return [(texts.get(doc_id) or h.passage, (getattr(h, "lang", None) or lang)[:2])
            for doc_id, (h, lang) in hits.items()]


def checker(search: Any, store: Any, *, cancelling: bool = False) -> Callable[[str, str, Item], str | None]:
    """``(tenant id, language, item) -> clause or None`` over the tenant's returns page (``cancelling``: its pages on
    cancelling an order), the pages read once per tenant and language for the checker's life (one turn)."""
    pages: dict[tuple[str, str], list[tuple[str, str]]] = {}
    question, read = (CANCEL_QUESTION, restricting_clause) if cancelling else (QUESTION, excluding_clause)

    def check(tenant_id: str, language: str, item: Item) -> str | None:
        key = (tenant_id, language)
        if key not in pages:
            pages[key] = returns_pages(search, store, tenant_id, language, question)
        return read(search.embedder, pages[key], item) if pages[key] else None

    return check
