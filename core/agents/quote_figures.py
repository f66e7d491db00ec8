"""The delays and dates of a quotation in another language, written again the customer's way.

A French customer quoted an English refund policy ("within 3 business days … 5–10 business days") reads after it
"(3 jours ouvrables; 5 à 10 jours ouvrables)"; a Spanish one quoted "Ships Mon Nov 23" reads "(lunes 23 de
noviembre)". The numbers are the quotation's own; only the words around them change. Units and their names are in
``quote_figures`` of core/agents/data/response.json, month and weekday names in core/agents/data/calendar.json.
"""

from __future__ import annotations

import re

from core import lexicon
from core.agents.record_dates import dates_in, render
from core.text import fold

_DATA = lexicon.load("response")["quote_figures"]
_LANGUAGES = ("en", "fr", "es")
# unit -> language -> (singular, plural), as the reply writes them
_UNITS: dict[str, dict[str, tuple[str, str]]] = {
    unit: {lang: (names[0], names[1]) for lang, names in languages.items()}
    for unit, languages in _DATA["units"].items() if unit != "note"}
# folded name of a unit in any language -> unit
_UNIT_OF = {fold(name): unit for unit, languages in _DATA["units"].items() if unit != "note"
            for names in languages.values() for name in names}
_BUSINESS = lexicon.by_language(_DATA["business"])
_BUSINESS_WORDS = "|".join(sorted({fold(w) for words in _BUSINESS.values() for w in words}, key=len, reverse=True))
_RANGE = lexicon.by_language(_DATA["range"])
_UNIT_WORDS = "|".join(sorted((re.escape(name) for name in _UNIT_OF), key=len, reverse=True))
_JOIN = r"(?:-|–|—|to|a|à|and|et|y)"
# "3 business days", "5–10 días hábiles", "6 to 12 weeks", "30-day", "7 a 14 jours ouvrables"
_DELAY = re.compile(
    rf"(?<![\d.,])(\d{{1,3}})(?:\s*{_JOIN}\s*(\d{{1,3}}))?(?:\s+|-)(?:(?:{_BUSINESS_WORDS})\s+)?({_UNIT_WORDS})\b"
    rf"(?:\s+({_BUSINESS_WORDS})\b)?")


def delays_in(text: str) -> list[tuple[int, int | None, str, bool]]:
    """The delays written in ``text``: (first, last or None, unit, business days only), in order."""
    found = []
    for match in _DELAY.finditer(fold(text)):
        business = bool(match.group(4)) or bool(re.search(rf"\b(?:{_BUSINESS_WORDS})\s+{re.escape(match.group(3))}$",
                                                          match.group(0)))
        last = int(match.group(2)) if match.group(2) else None
        if last is not None and last <= int(match.group(1)):
            last = None  # "2-3" read as a range only when it rises; "24-7" is no delay
        found.append((int(match.group(1)), last, _UNIT_OF[match.group(3)], business))
    return found


def render_delay(first: int, last: int | None, unit: str, business: bool, language: str) -> str:
    singular, plural = _UNITS[unit][language]
    name = singular if last is None and first == 1 else plural
    business_word = f" {_BUSINESS[language][0]}" if business and unit == "day" else ""
    if language == "en" and business_word:
        return f"{first}{_RANGE[language]}{last} business {name}" if last else f"{first} business {name}"
    span = f"{first}{_RANGE[language]}{last}" if last is not None else str(first)
    return f"{span} {name}{business_word}"


def figures_gloss(text: str, source: str, language: str) -> str:
    """The delays and dates of ``text`` (written in ``source``) as ``language`` writes them, "; "-separated; "" when
    the languages are the same or the text gives none."""
    if source[:2] == language[:2] or language[:2] not in _LANGUAGES:
        return ""
    language = language[:2]
    pieces = [render_delay(*delay, language) for delay in delays_in(text)]
    pieces += [render(date, language) for date in dates_in(text) if date.month is not None]
    return "; ".join(dict.fromkeys(p for p in pieces if p))
