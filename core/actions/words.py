"""The phrases of the order-action dialogue in en / fr / es (``core/agents/data/actions.json``): which action a
message asks for, whether it asks rather than wonders, and whether it says yes or no to a proposed change."""

from __future__ import annotations

import re

from core import lexicon
from core.lexicon import Templates
from core.text import fold

_DATA = lexicon.load("actions")
REPLIES = Templates(_DATA["templates"])

# Checked in this order: "cancel the exchange" is about cancelling, "return it for a refund" about a return.
_TOOLS = [(name, lexicon.compile_phrases(entry)) for name, entry in _DATA["tools"].items()]
_OTHER_SENSES = lexicon.compile_phrases(_DATA["other_senses"])
_REQUEST = lexicon.compile_phrases(_DATA["request"])
_QUESTION = lexicon.compile_phrases(_DATA["question"])
_ALL_ITEMS = lexicon.compile_phrases(_DATA["all_items"])
_REASONS = [(reason, lexicon.compile_phrases(entry)) for reason, entry in _DATA["return_reasons"].items()]
_CONFIRM = {fold(p) for p in lexicon.phrases(_DATA["confirm"])}
_FINAL_SALE = tuple(fold(w) for w in _DATA["final_sale_marks"]["words"])
_DECLINE = {language: {fold(p) for p in _DATA["decline"][language]} for language in lexicon.LANGUAGES}
_FIRST_CLAUSE = re.compile(r"^[^,.;!?\n]*")
_ORDER_NUMBER = re.compile(r"#?\b\d{3,12}\b")


def tool_asked(message: str) -> str | None:
    """The action the message asks for, or None ("je retourne à Laval" goes somewhere, it returns nothing)."""
    folded = _OTHER_SENSES.sub(" ", fold(message))
    return next((name for name, pattern in _TOOLS if pattern.search(folded)), None)


def is_request(message: str, *, names_order: bool) -> bool:
    """Asks the desk to act ("cancel my order 1038", "je veux retourner…"), rather than asking how something works
    ("how do I return an item?"), which the shop's pages answer."""
    folded = fold(message)
    if tool_asked(message) is None:
        return False
    if names_order or _ORDER_NUMBER.search(folded):
        return True
    return bool(_REQUEST.search(folded)) and not _QUESTION.search(folded)


def order_numbers(message: str) -> list[str]:
    """The numbers of a message that may be an order's ("it's 1038", "#1038")."""
    return [n.lstrip("#") for n in _ORDER_NUMBER.findall(fold(message))]


def _clause(message: str) -> str:
    text = fold(message).strip()
    clause = _FIRST_CLAUSE.match(text)
    return re.sub(r"\s+", " ", (clause.group(0) if clause else text).strip(" ¡¿\"'«»“”"))


def confirms(message: str) -> bool:
    """An explicit yes: the message's first clause is one of the yes phrases ("yes", "oui", "sí", "confirm"...),
    and nothing in the message says no."""
    words = set(re.findall(r"[a-z']+", fold(message)))
    return _clause(message) in _CONFIRM and not words & {"no", "non", "not", "pas", "don't", "wait"}


def declines(message: str, language: str | None = None) -> bool:
    """A no ("no", "non", "no gracias"...), in ``language`` or in any language."""
    phrases = _DECLINE[language] if language in _DECLINE else set().union(*_DECLINE.values())
    return _clause(message) in phrases


def means_all_items(message: str) -> bool:
    return bool(_ALL_ITEMS.search(fold(message)))


def return_reason(message: str) -> str | None:
    folded = fold(message)
    return next((reason for reason, pattern in _REASONS if pattern.search(folded)), None)


def marks_final_sale(*texts: str) -> bool:
    """Whether an item's title, variant or product tags say it is final sale (no return, no exchange)."""
    return any(mark in fold(text or "") for text in texts for mark in _FINAL_SALE)
