"""Questions about when the shop is open, and the answering units that tell it.

"Are you open tomorrow?", "pis le dimanche c'est fermé?", "¿a qué hora cierran hoy?" are answered by the shop's
timetable (its days and times of day), which the embedder often finds no closer than the sentence that gives the
shop's address: a unit that tells times of day ranks higher for such a question, and one naming the weekday asked
about (in any of the three languages) higher still. The question's wording is matched on the phrases of
``core/agents/data/response.json`` (``asks_hours``); the weekday names are those of ``calendar.json``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from core import lexicon
from core.rag.answer_units import Unit, tells_time
from core.text import fold

_DATA = lexicon.load("response")
_CALENDAR = lexicon.load("calendar")
# Folded weekday name (written in full) -> weekday (0 = Monday), in every language.
_WEEKDAYS = {fold(lexicon.words(names)[0]): index for language in lexicon.LANGUAGES
             for index, names in enumerate(_CALENDAR["weekdays"][language])}
_WHEN = lexicon.alternatives(_DATA["asks_hours_when"], WEEKDAY="|".join(sorted(_WEEKDAYS, key=len, reverse=True)))
_ASKS_HOURS = lexicon.compile_phrases(_DATA["asks_hours"], WHEN=_WHEN)
_WORD = re.compile(r"[a-z]+")

HOURS_UNIT_WEIGHT = 0.04  # a unit telling times of day, for a question about when the shop is open
TIMETABLE_UNIT_WEIGHT = 0.02  # one telling them for the days of the week (three weekdays named or more)
TIMETABLE_DAYS = 3
WEEKDAY_UNIT_WEIGHT = 0.02  # a unit naming the weekday the question asks about


def asks_hours(query: str) -> bool:
    """Whether the question asks when the shop (its store, pickup counter or phone line) is open."""
    return bool(_ASKS_HOURS.search(fold(query)))


def weekdays(text: str) -> set[int]:
    """The weekdays ``text`` names in full, in any of the three languages (0 = Monday)."""
    return {_WEEKDAYS[word] for word in _WORD.findall(fold(text)) if word in _WEEKDAYS}


def hours_weight(query: str) -> Callable[[Unit], float] | None:
    """For a question about when the shop is open, a unit's extra weight: ``HOURS_UNIT_WEIGHT`` when it tells times
    of day or names a day it is open or closed, ``TIMETABLE_UNIT_WEIGHT`` more when it is a week's timetable (the
    store's hours beat a line giving the phone line's weekdays), and ``WEEKDAY_UNIT_WEIGHT`` when it names a weekday
    asked about; None for any other question."""
    if not asks_hours(query):
        return None
    asked = weekdays(query)

    def weight(unit: Unit) -> float:
        named = weekdays(f"{unit.heading} {unit.text}")
        # (times of day, or a day named open or closed: "Thursday, November 26 (Thanksgiving): closed")
        timed = tells_time(unit.text) or bool(named and asks_hours(unit.text))
        return (HOURS_UNIT_WEIGHT if timed else 0.0) + \
            (TIMETABLE_UNIT_WEIGHT if timed and len(named) >= TIMETABLE_DAYS else 0.0) + \
            (WEEKDAY_UNIT_WEIGHT if asked & named else 0.0)

    return weight
