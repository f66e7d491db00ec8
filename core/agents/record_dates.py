"""The dates of a shop's record text (an order's note: "Ships Mon Nov 23 after roasting") written again in the reply's
language ("lunes 23 de noviembre"), so a French or Spanish customer reads the date that a note quoted in English
gives. Month and weekday names of en / fr / es are in ``core/agents/data/calendar.json``; a date is a weekday, a
month and its day in either order ("Nov 23", "23 novembre", "23 de noviembre"), or both, with an optional year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from core import lexicon
from core.language import detect as detect_language
from core.text import fold

_CALENDAR = lexicon.load("calendar")
_LANGUAGES = ("en", "fr", "es")
# Language -> one list of names per month / weekday (Monday first), the full name first.
_MONTH_NAMES = {language: [lexicon.words(names) for names in _CALENDAR["months"][language]] for language in _LANGUAGES}
_WEEKDAY_NAMES = {language: [lexicon.words(names) for names in _CALENDAR["weekdays"][language]]
                  for language in _LANGUAGES}
# Folded name or abbreviation -> month (1..12) / weekday (0 = Monday); the languages agree where they share one.
_MONTHS = {fold(name): index + 1 for names in _MONTH_NAMES.values() for index, month in enumerate(names)
           for name in month}
_WEEKDAYS = {fold(name): index for names in _WEEKDAY_NAMES.values() for index, day in enumerate(names) for name in day}
# A weekday alone must be written in full: "sat", "sun" and "wed" are English words too.
_FULL_WEEKDAYS = {fold(day[0]) for names in _WEEKDAY_NAMES.values() for day in names}
_TOKEN = re.compile(r"[a-z]+|\d{1,4}")


@dataclass(frozen=True)
class RecordDate:
    weekday: int | None = None  # 0 = Monday
    day: int | None = None
    month: int | None = None
    year: int | None = None


def dates_in(text: str) -> list[RecordDate]:
    """The dates written in ``text``, in order."""
    words = _TOKEN.findall(fold(text))
    found: list[RecordDate] = []
    i = 0
    while i < len(words):
        weekday = _WEEKDAYS.get(words[i])
        j = i + 1 if weekday is not None else i
        day = month = year = None
        if j + 1 < len(words) and words[j] in _MONTHS and _day(words[j + 1]):
            month, day, j = _MONTHS[words[j]], int(words[j + 1]), j + 2
        elif j + 1 < len(words) and _day(words[j]):
            k = j + 2 if words[j + 1] == "de" else j + 1
            if k < len(words) and words[k] in _MONTHS:
                month, day, j = _MONTHS[words[k]], int(words[j]), k + 1
        if month is not None:
            k = j + 1 if j < len(words) and words[j] == "de" else j
            if k < len(words) and words[k].isdigit() and len(words[k]) == 4:
                year, j = int(words[k]), k + 1
            found.append(RecordDate(weekday, day, month, year))
            i = j
        elif weekday is not None and words[i] in _FULL_WEEKDAYS:
            found.append(RecordDate(weekday))
            i += 1
        else:
            i += 1
    return found


def _day(word: str) -> bool:
    return word.isdigit() and 1 <= int(word) <= 31 and len(word) <= 2


def render(date: RecordDate, language: str) -> str:
    """The date as ``language`` writes it: "Monday, November 23", "lundi 23 novembre", "lunes 23 de noviembre"."""
    months, weekdays = _MONTH_NAMES[language], _WEEKDAY_NAMES[language]
    weekday = weekdays[date.weekday][0] if date.weekday is not None else ""
    if date.month is None:
        return weekday
    month = months[date.month - 1][0]
    if language == "en":
        text = f"{month.capitalize()} {date.day}" + (f", {date.year}" if date.year else "")
        return f"{weekday.capitalize()}, {text}" if weekday else text
    link = " de " if language == "es" else " "
    text = f"{date.day}{link}{month}" + (f"{link}{date.year}" if date.year else "")
    return f"{weekday} {text}" if weekday else text


def dates_gloss(text: str, language: str) -> str:
    """The dates of ``text`` written in ``language`` ("lunes 23 de noviembre; viernes"), when ``text`` is written in
    another language; "" when it is in ``language`` or gives no date."""
    detected, confidence = detect_language(text)
    if detected == language[:2] and confidence >= 0.5:
        return ""
    return "; ".join(dict.fromkeys(render(d, language[:2]) for d in dates_in(text)))


def iso_date(text: str, language: str) -> str:
    """A record's ISO date ("2024-10-31") as ``language`` writes it ("October 31, 2024", "31 octobre 2024",
    "31 de octubre de 2024"); the text as it is when it is no such date."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return text
    return render(RecordDate(day=day.day, month=day.month, year=day.year), language[:2])
