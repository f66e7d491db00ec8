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
from core.text import STOPWORDS, fold

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
# The ending after a day's number ("1st", "1er"): read as part of the number.
_ORDINALS = {fold(ending) for language in _LANGUAGES for ending in lexicon.words(_CALENDAR["ordinals"][language])}


@dataclass(frozen=True)
class RecordDate:
    weekday: int | None = None  # 0 = Monday
    day: int | None = None
    month: int | None = None
    year: int | None = None


def dates_in(text: str) -> list[RecordDate]:
    """The dates written in ``text``, in order."""
    words = _tokens(text)
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


# A month named alone ("in July", "en juillet") must be written in full, and not be a common word ("may").
_FULL_MONTHS = {fold(month[0]): index + 1 for names in _MONTH_NAMES.values() for index, month in enumerate(names)
                if fold(month[0]) not in STOPWORDS}


def months_in(text: str) -> set[int]:
    """The months ``text`` names in full, with or without a day (1..12)."""
    return {_FULL_MONTHS[word] for word in _TOKEN.findall(fold(text)) if word in _FULL_MONTHS}


def periods_in(text: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """The periods of the year ``text`` gives as a first and a last day ("June 1 to September 15", "du 16 septembre
    au 31 octobre et du 1er avril au 31 mai"): ((month, day), (month, day)) pairs, in order; a period may run over
    the new year ("November 1 to March 31"). A text giving an odd number of dates gives none."""
    dated = [(d.month, d.day) for d in dates_in(text) if d.month and d.day]
    if not dated or len(dated) % 2:
        return []
    return [(dated[i], dated[i + 1]) for i in range(0, len(dated), 2)]


def in_period(day: tuple[int, int], period: tuple[tuple[int, int], tuple[int, int]]) -> bool:
    """Whether the (month, day) falls in the period (its first and last day included)."""
    first, last = period
    return first <= day <= last if first <= last else day >= first or day <= last


def _tokens(text: str) -> list[str]:
    """The words and numbers of ``text``, folded, a day's ordinal ending dropped ("1er juin" -> "1", "juin")."""
    words: list[str] = []
    for match in _TOKEN.finditer(fold(text)):
        word = match.group()
        if word in _ORDINALS and words and words[-1].isdigit() and match.start() > 0 \
                and match.string[match.start() - 1].isdigit():
            continue
        words.append(word)
    return words


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
