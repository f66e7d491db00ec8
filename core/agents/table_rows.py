"""Which row of a page's table answers the question: the one whose cells hold what the question names.

A shipping table has a row per zone, a deadline list an item per carrier or zone ("Zone 3 (Alberta, …): Tuesday,
December 15"), a service list an item per service, a class schedule a row per weekday. The embedder finds every
row of such a table about equally close to "how long to Calgary?", "what's the deadline for Zone 2?" or "how much is
a basic tune?": the rows share their column names and differ in a few cells. What tells them apart is structural:
the row whose cells name the question's place (its province, state or country, ``core.rag.places``), the question's
weekday or date (a relative one, "tomorrow", "demain", "mañana", read on the shop's calendar day of the message),
or the question's own words (a service, a product), when the table's other rows do not. Such a row ranks higher
(``ROW_MATCH_WEIGHT`` for each thing it names); a thing every row names tells none of them apart, and a question
naming nothing the rows differ in leaves the table's ranking to the embedder.

The relative day words are those of ``core/agents/data/calendar.json`` (``relative_days``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core import lexicon
from core.agents.opening_hours import weekdays
from core.agents.record_dates import dates_in, in_period, months_in, periods_in
from core.rag.answer_units import UNIT_VECTORS, Unit
from core.rag.places import gazetteer, names_any, zone_names
from core.text import STOPWORDS, fold

#: Added to a row's score for each thing the question names that its cells hold and some other row's do not.
ROW_MATCH_WEIGHT = 0.03
#: How much a word of the question in the row's first cell counts against a place, a weekday or a date (a word is
#: more often shared by chance: "free" in "free shipping from $75"); in another cell, half that.
ROW_WORD_SHARE = 0.5
#: At most this many things count for one row.
ROW_MATCHES = 2
#: What the period of the year a row is for counts, when it is the one the question is about: its case, as a place
#: is a shipping row's.
PERIOD_SHARE = 2.0
_WORD = re.compile(r"[a-z0-9]+")
_MIN_LETTERS = 3
# An item of a list that reads as a row: a short label, a colon, a short value ("Zone 2 (NB, NS, PEI): Wednesday,
# December 16"); a longer one is a rule of its own ("Example: an order to Ontario placed Wednesday at 2 p.m. …").
_LABEL_WORDS = 10
_VALUE_WORDS = 10


def _phrase(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(fold(text)))


_RELATIVE: dict[tuple[str, ...], int | None] = {
    _phrase(phrase): offset for language in lexicon.LANGUAGES
    for phrase, offset in lexicon.load("calendar")["relative_days"].get(language, {}).items()}
_LONGEST = max((len(p) for p in _RELATIVE), default=1)
_WEEKEND = {_phrase(phrase) for language in lexicon.LANGUAGES
            for phrase in lexicon.load("calendar")["weekend"].get(language, [])}
_SATURDAY_SUNDAY = frozenset({5, 6})
# The question words asking for a figure ("how long", "combien") name no row: "how long" is not the "Long blade" row.
_ASKING = re.compile(lexicon.alternatives(lexicon.load("response")["part_openers"]))


def names_weekend(text: str) -> bool:
    """Whether ``text`` names the weekend ("weekends", "la fin de semaine", "el finde")."""
    words = _phrase(text)
    return any(words[i:i + len(p)] == p for p in _WEEKEND for i in range(len(words) - len(p) + 1))


def relative_days(text: str) -> list[int]:
    """The days ``text`` names by their distance from today ("tomorrow" -> 1, "pis demain?" -> 1, "hoy" -> 0), in
    order; the morning ("mañana en la mañana" -> [1]) is no day."""
    words = _phrase(text)
    found: list[int] = []
    i = 0
    while i < len(words):
        for size in range(min(_LONGEST, len(words) - i), 0, -1):
            key = words[i:i + size]
            if key in _RELATIVE:
                offset = _RELATIVE[key]
                if offset is not None:
                    found.append(offset)
                i += size
                break
        else:
            i += 1
    return found


def shop_day(received_at: str | None, timezone: str | None) -> date | None:
    """The shop's calendar day when the message came (``received_at``: ISO time; ``timezone``: the shop's IANA
    zone, UTC when unknown); None without a time."""
    if not received_at:
        return None
    try:
        moment = datetime.fromisoformat(received_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return moment.astimezone(zone).date()


@dataclass(frozen=True)
class Asked:
    """What a question names that a table's row may hold."""

    places: tuple[str, ...] = ()  # the places named and their zones' names
    days: frozenset[int] = frozenset()  # weekdays (0 = Monday), named or resolved from "tomorrow"
    dates: frozenset[tuple[int, int]] = frozenset()  # (month, day), named or resolved
    words: frozenset[str] = frozenset()  # the question's own words, folded and cut to their root
    months: frozenset[int] = frozenset()  # months named ("in July")
    today: tuple[int, int] | None = None  # the shop's (month, day) of the message

    def __bool__(self) -> bool:
        return bool(self.places or self.days or self.dates or self.words or self.months or self.today)

    def falls_in(self, periods: list[tuple[tuple[int, int], tuple[int, int]]]) -> bool:
        """Whether the time the question is about falls in one of the periods: a date or month it names (a month
        overlapping a period is in it), else the day of the message."""
        if self.dates or self.months:
            return any(in_period(day, p) for day in self.dates for p in periods) or any(
                in_period((month, day), p) for month in self.months for day in range(1, 32) for p in periods)
        return self.today is not None and any(in_period(self.today, p) for p in periods)


def asked(question: str, today: date | None = None) -> Asked:
    """What ``question`` names: its places and their zones, its weekdays and dates (``today`` resolves "tomorrow",
    "aujourd'hui", "mañana"), and its words."""
    places = [p.name for p in gazetteer().find(question)] + zone_names(question)
    days = set(weekdays(question)) | (_SATURDAY_SUNDAY if names_weekend(question) else set())
    dates = {(d.month, d.day) for d in dates_in(question) if d.month and d.day}
    if today is not None:
        for offset in relative_days(question):
            day = today + timedelta(days=offset)
            days.add(day.weekday())
            dates.add((day.month, day.day))
    # (a word naming a place or a day counts as that place or day, not again as a word)
    said = _roots(" ".join(places)) | {w[:5] for phrase in (*_RELATIVE, *_WEEKEND) for w in phrase}
    months = months_in(question) - {month for month, _ in dates}
    said |= {w[:5] for w in _WORD.findall(fold(question)) if months_in(w)}
    words = _roots(" ".join(w for w in _WORD.findall(_ASKING.sub(" ", fold(question))) if not weekdays(w))) - said
    return Asked(tuple(dict.fromkeys(places)), frozenset(days), frozenset(dates), frozenset(words),
                 frozenset(months), (today.month, today.day) if today is not None else None)


def _roots(text: str) -> set[str]:
    return {w[:5] for w in _WORD.findall(fold(text)) if len(w) >= _MIN_LETTERS and w not in STOPWORDS
            and not w.isdigit()}


def _cells(unit: Unit) -> tuple[str, ...]:
    """A row's cells; a list item's label and value."""
    if unit.kind == "row":
        return unit.cells
    label, colon, value = unit.text.partition(":")
    short = len(label.split()) <= _LABEL_WORDS and len(value.split()) <= _VALUE_WORDS
    return (label, value) if colon and label.strip() and value.strip() and short else ()


def tables(units: Sequence[Unit]) -> list[list[Unit]]:
    """The tables of a document's units: runs of table rows, and runs of list items that read "label: value", of
    two rows or more in one section."""
    found: list[list[Unit]] = []
    run: list[Unit] = []
    for unit in units:
        if run and (unit.section != run[-1].section or unit.kind != run[-1].kind or not _cells(unit)):
            found.append(run)
            run = []
        if unit.kind in ("row", "item") and _cells(unit):
            run.append(unit)
    if run:
        found.append(run)
    return [t for t in found if len(t) >= 2]


def _holds(cells: tuple[str, ...], question: Asked) -> list[tuple[str, object, float]]:
    """The things of the question the cells hold: (kind, thing, its share of ``ROW_MATCH_WEIGHT``)."""
    text = " ".join(cells)
    held: list[tuple[str, object, float]] = []
    if question.places and names_any(text, list(question.places)):
        held.append(("place", "", 1.0))
    dated = [(d.month, d.day) for d in dates_in(text) if d.month and d.day]
    held += [("date", d, 1.0) for d in dated if d in question.dates]
    if question.days and not (dated and question.dates and not set(dated) & question.dates):
        # (a row for another date than the one asked about is not answered by its weekday: "Thursday, December 31"
        # for "tomorrow", Thursday, December 24)
        held += [("day", d, 1.0) for d in question.days & weekdays(text)]
    if question.words and cells:
        # (the row's first cell names its case: "Basic Tune" beats "Full Tune", whose contents hold "Basic Tune +")
        key = _roots(cells[0])
        held += [("word", w, ROW_WORD_SHARE if w in key else ROW_WORD_SHARE / 2)
                 for w in question.words & _roots(text)]
    return list({(kind, thing): (kind, thing, share) for kind, thing, share in held}.values())


def row_weights(units: Sequence[Unit], question: Asked) -> dict[Unit, float]:
    """The extra weight of each row of the document's tables that holds what the question names and another row of
    its table does not."""
    return {row: weight for row, (weight, _, _) in _named_rows(units, question).items() if weight}


def _named_rows(units: Sequence[Unit], question: Asked) -> dict[Unit, tuple[float, frozenset, int]]:
    """For each row of the document's tables: its extra weight (for what it holds of what the question names and
    another row of its table does not), the things it names that few rows of its table hold (a third of them at most; a
    word only in its first cell, which names the row's case: "Scissors" for "can I send my scissors?"), and its
    table's number."""
    found: dict[Unit, tuple[float, frozenset, int]] = {}
    if not question:
        return found
    for number, table in enumerate(tables(units)):
        held = [_holds(_cells(row), question) for row in table]
        # (a period is a first and a last day written together, in one cell: a deadline table's row giving one date
        # per carrier, "Letter mail: December 9, Expedited: December 14", gives two dates, not a period)
        periods = [[p for cell in _cells(row) for p in periods_in(cell)] for row in table]
        if sum(bool(p) for p in periods) >= 2:
            # A table by period of the year (a season's hours, a holiday's deadlines): the row of the period the
            # question is about (a date or month it names, else today) answers, and another period's row holds
            # nothing the question names ("open Mondays?" in winter is answered by the winter row, though the
            # summer row names Monday).
            held = [[("period", "", PERIOD_SHARE)] if question.falls_in(p) else [] if p else things
                    for things, p in zip(held, periods, strict=True)]
        count: dict[tuple[str, object], int] = {}
        for things in held:
            for kind, thing, _ in things:
                count[(kind, thing)] = count.get((kind, thing), 0) + 1
        for row, things in zip(table, held, strict=True):
            shares = sorted((share for kind, thing, share in things if count[(kind, thing)] < len(table)),
                            reverse=True)
            few = frozenset((kind, thing) for kind, thing, share in things
                            if count[(kind, thing)] <= max(1, len(table) // 3)
                            and (kind != "word" or share == ROW_WORD_SHARE))
            found[row] = (ROW_MATCH_WEIGHT * sum(shares[:ROW_MATCHES]), few, number)
    return found


class RowRanker:
    """A reply's ranker that also weighs a table's rows by what the question names (``row_weights``); ``today``:
    the shop's calendar day of the message, for "tomorrow" and "today"."""

    def __init__(self, ranker: Callable, today: date | None = None):
        self._ranker = ranker
        self._today = today
        self._weights: dict[tuple[int, Unit], float] = {}
        self._named: dict[str, dict[tuple[int, Unit], tuple[frozenset, int]]] = {}

    def row_bonus(self, source: int, unit: Unit) -> float:
        """What the last ranking added to this unit for the question's named things (0 for any other unit)."""
        return self._weights.get((source, unit), 0.0)

    def other_named_rows(self, question: str, source: int, chosen: Sequence[Unit]) -> list[Unit]:
        """The rows of document ``source`` of the question's ranking in the tables of the ``chosen`` rows that name
        something the question names, few rows of their table hold and none of the chosen rows does ("the bread
        knife and the yanagiba": the row of each; "weekends": the Saturday and the Sunday rows), and the row of each
        other table of the page that names a thing the chosen rows name (a Monday's regular hours beside the holiday
        Monday's), in page order."""
        named = self._named.get(question, {})
        tables_of = {named[(source, u)][1] for u in chosen if (source, u) in named}
        said = set().union(*(named[(source, u)][0] for u in chosen if (source, u) in named))
        asked_of_chosen = frozenset(said)
        rows = []
        for (index, unit), (things, table) in sorted(named.items(), key=lambda item: item[0][1].position):
            if index != source or unit in chosen:
                continue
            if table in tables_of and things - said:
                rows.append(unit)
                said |= things
            elif table not in tables_of and things & asked_of_chosen:
                # (another table of the page holding the same named thing answers for its own case: the regular
                # Monday hours beside the holiday Monday's)
                rows.append(unit)
                tables_of.add(table)
        return rows

    def __call__(self, question: str, documents, lexical=None):
        named = asked(question, self._today)
        weights: dict[tuple[int, Unit], float] = {}
        self._weights = weights
        rows = self._named[question] = {}
        if named:
            for index, (content, _) in enumerate(documents):
                for unit, (weight, things, table) in _named_rows(UNIT_VECTORS.units(content), named).items():
                    if weight:
                        weights[(index, unit)] = weight
                    rows[(index, unit)] = (things, table)
        if not weights:
            return self._ranker(question, documents, lexical)

        def with_rows(unit: Unit, index: int) -> float:
            return (lexical(unit, index) if lexical else 0.0) + weights.get((index, unit), 0.0)

        return self._ranker(question, documents, with_rows)
