"""The order-action dialogue's reading of a message (en / fr / es): which action it names (the phrases of
``core/agents/data/actions.json``), and what it does with it, read by the dialogue-act model: asks the desk to act or
asks how something works, says yes or no to a proposed change, and why an item goes back."""

from __future__ import annotations

import re

from core import lexicon
from core.agents import dialogue_act
from core.lexicon import Templates
from core.text import fold

_DATA = lexicon.load("actions")
REPLIES = Templates(_DATA["templates"])

# Checked in this order: "cancel the exchange" is about cancelling, "return it for a refund" about a return.
_TOOLS = [(name, lexicon.compile_phrases(entry)) for name, entry in _DATA["tools"].items()]
_ALL_ITEMS = lexicon.compile_phrases(_DATA["all_items"])
_FINAL_SALE = tuple(fold(w) for w in _DATA["final_sale_marks"]["words"])
_ORDER_NUMBER = re.compile(r"#?\b\d{3,12}\b")
#: How sure the dialogue-act model must be of a yes before a change is made on it.
CONFIRM_PROBABILITY = 0.8
#: How sure the return-reason model must be of a reason before it is recorded with the return.
REASON_PROBABILITY = 0.5
#: How sure it must be that an action's words are used in another sense before they name no action.
OTHER_SENSE_PROBABILITY = 0.8


def tool_asked(message: str) -> str | None:
    """The action the message names, or None: no action's words, or its words in another sense ("je retourne à
    Laval en avril" goes somewhere, it returns nothing)."""
    folded = fold(message)
    tool = next((name for name, pattern in _TOOLS if pattern.search(folded)), None)
    if tool is None:
        return None
    act, probability = dialogue_act.classify(message)
    return None if act == "other" and probability >= OTHER_SENSE_PROBABILITY else tool


def names_tool(text: str, tool: str) -> bool:
    """Whether the text names the action in its words ("can't be cancelled" names the cancellation)."""
    folded = fold(text)
    return any(pattern.search(folded) for name, pattern in _TOOLS if name == tool)


def is_request(message: str) -> bool:
    """Asks the desk to act ("cancel my order 1038", "je veux retourner…"), rather than asking how something works
    or whether it can be done ("how do I return an item?", "can I return the earrings from order 1184?", "if I
    return it, do I get store credit?"), which the shop's pages answer, with the order's facts beside them when the
    message names one. A long story the model reads half as something else still asks, when asking to act outweighs
    asking how."""
    if tool_asked(message) is None:
        return False
    acts = dialogue_act.act_probabilities(message)
    return acts["request"] > acts["question"]


def order_numbers(message: str) -> list[str]:
    """The numbers of a message that may be an order's ("it's 1038", "#1038")."""
    return [n.lstrip("#") for n in _ORDER_NUMBER.findall(fold(message))]


def confirms(message: str) -> bool:
    """An explicit yes ("yes", "oui, allez-y", "sí, adelante"), not a yes with a but ("yes but not the soap")."""
    act, probability = dialogue_act.classify(message)
    return act == "confirm" and probability >= CONFIRM_PROBABILITY


def declines(message: str) -> bool:
    """A no to a proposed change ("no", "non merci, laissez faire", "mejor no")."""
    return dialogue_act.classify(message)[0] == "decline"


def means_all_items(message: str) -> bool:
    return bool(_ALL_ITEMS.search(fold(message)))


def return_reason(message: str) -> str | None:
    """Why the customer sends the item back ("it came broken": defective; "me queda chico": too small), or None when
    the message gives no reason the model is sure of."""
    reason, probability = dialogue_act.return_reason(message)
    return reason if reason != "none" and probability >= REASON_PROBABILITY else None


def marks_final_sale(*texts: str) -> bool:
    """Whether an item's title, variant or product tags say it is final sale (no return, no exchange): "Final
    sale", or a tag written "final-sale"."""
    return any(mark in fold(text or "").replace("-", " ").replace("_", " ") for text in texts for mark in _FINAL_SALE)
