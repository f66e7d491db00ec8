"""Answering units of a knowledge document, and their ranking against a customer's question.

A reply quotes the part of a page that answers, not the page: a sentence (with its section heading for the
embedder, and in the quote when it is a list item that means nothing without it: "What we can't take back:
Segunda plates — final sale"), one row of a table read with its column names ("Destination: Canada, Cost:
$19.95, Free shipping: on orders of $150+"), or a question-and-answer pair of a FAQ. A line that only asks or
names ("Arrived broken?", "How long.") goes with the sentence after it.

Units are ranked by the multilingual embedder's similarity to the question (a French question finds the English
sentence that answers it), plus what the caller adds (shared words, the document's retrieval score). Unit vectors
are embedded as passages through the tenant-agnostic embedder, whose cache keeps them by text.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from core.text import strip_markup

from .embedders import Embedder
from .sentences import split_sentences

_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_BULLET = re.compile(r"^([-*•]|\d+\.)\s+")
_TABLE_RULE = re.compile(r":?-{2,}:?")
# The catalogue lines under a product page (its variants' stock and price, tags, category): the shop's live data
# answers those, not the page.
_METADATA = re.compile(r"(?:Variant .*\(SKU|Tags:|Category:)")
_MIN_WORDS = 4  # a shorter line (a question, a label) is read with the sentence that follows it
_BLOCK_LINE_WORDS = 8  # a line of a block of short lines (an address) has at most this many words
# A bold run-in label opening a line ("**How long we keep it.** Order records are kept…") names what follows it.
_RUN_IN = re.compile(r"(?:\*\*|__)([^*_]+?[.:])(?:\*\*|__)\s+\S")
# A time of day as shops write it: "10:00", "9 a.m.", "5pm", "17 h", "9 h 30".
_CLOCK = re.compile(r"\b\d{1,2}(?::\d{2}|\s?[ap]\.?\s?m\b\.?|\s?h(?:\s?\d{2})?\b)", re.IGNORECASE)
# A timetable's item names days ("Sunday, Monday and Tuesday") and gives their times ("10:00 a.m. – 6:00 p.m.",
# "closed (roasting day)"): a longer label or value says more than that.
_SCHEDULE_LABEL_WORDS = 6
_SCHEDULE_VALUE_WORDS = 8
#: How much what a unit is about (its question, or its page title and heading) counts against what it says (1.0).
SUBJECT_WEIGHT = 0.3
#: A page's units that together tell how much the page is about the question (the best ones), and how much their mean
#: falling short of the page's best unit lowers its units against another page's: a page about the question answers
#: it in several units, a page that mentions it in passing in one.
PAGE_UNITS = 3
PAGE_WEIGHT = 0.5


@dataclass(frozen=True)
class Unit:
    """``text`` is quoted in the reply; ``context`` is what the embedder reads (the heading gives it its subject)."""

    text: str
    context: str
    section: int
    position: int
    kind: str  # "sentence", "item" (a list item), "row" (a table row) or "qa" (a FAQ question with its answer)
    heading: str = ""
    cells: tuple[str, ...] = ()  # a table row's cells
    label: str = ""  # what the unit answers, when it says so: a FAQ pair's question, a run-in question or label
    line: int = -1  # the page line (a list item, a paragraph's line, a table row) it is read from, counted on the page
    paragraph: int = -1  # the page's paragraph (a run of lines between blank lines) it is read from

    @property
    def subject(self) -> str:
        """What the unit is about, in few words: its question when it has one, else its page title and heading."""
        if self.label:
            return self.label
        tail = f": {self.text}"
        return self.context[:-len(tail)] if self.context.endswith(tail) else ""


def _clean(text: str) -> str:
    return strip_markup(_LINK.sub(r"\1", text)).strip()


def _row_text(header: list[str], cells: list[str]) -> str:
    pairs = [f"{name}: {cell}" if name else cell for name, cell in zip(header, cells, strict=False) if cell]
    return ", ".join(pairs)


# A line that goes on from the one above it: it starts in the middle of a sentence (a lower-case word, a figure, a
# bracket), or the line above is a long one cut off without closing its sentence (a hard-wrapped paragraph or item).
_GOES_ON = re.compile(r"[*_`]*[^\W\d_A-Z]|[*_`]*[\d(\[$€%]")
_WRAP_WIDTH = 60


def _joined_lines(lines: list[str]) -> list[str]:
    """A paragraph's lines with the wrapped ones joined to the line they continue (headings, table rows, list items
    and FAQ questions start lines of their own)."""
    out: list[str] = []
    for line in lines:
        previous = out[-1] if out else ""
        opens = line.startswith(("#", "|")) or _BULLET.match(line)
        ended = _clean(previous)[-1:] in (".", "!", "?", ":", ";") if previous else True
        if previous and not opens and not previous.startswith(("#", "|")) and not _clean(previous).endswith("?") \
                and (_GOES_ON.match(line) or (not ended and len(previous) >= _WRAP_WIDTH)):
            out[-1] = f"{previous} {line}"
        else:
            out.append(line)
    return out


def _schedule_runs(lines: list[str]) -> dict[int, int]:
    """The runs of list items that together make a timetable ("Monday: closed", "Tuesday to Friday: 10 a.m. to 6
    p.m.", …): short "label: value" items, two or more of them giving times of day. A timetable answers as a whole
    (the day asked about is read against the others), so it is one unit. Maps each run's first line to its end."""
    runs: dict[int, int] = {}
    start = 0
    while start < len(lines):
        end = start
        while end < len(lines) and _schedule_item(lines[end]):
            end += 1
        if sum(bool(_CLOCK.search(_clean(line))) for line in lines[start:end]) >= 2:
            runs[start] = end
        start = max(end, start + 1)
    return runs


def tells_time(text: str) -> bool:
    """Whether ``text`` gives a time of day ("10:00", "9 a.m.", "17 h")."""
    return bool(_CLOCK.search(text))


def _schedule_item(line: str) -> bool:
    if not _BULLET.match(line):
        return False
    label, colon, value = _clean(_BULLET.sub("", line)).partition(":")
    return bool(colon and label.strip() and value.strip()) and len(label.split()) <= _SCHEDULE_LABEL_WORDS \
        and len(value.split()) <= _SCHEDULE_VALUE_WORDS


def _block_line(line: str) -> bool:
    """A line of a block of short lines read as one (an address: the name, the street, the town and its code, the
    country): no heading, table row or list item, a few words, no sentence ending, no "label: value"."""
    text = _clean(line)
    return bool(text) and not line.startswith(("#", "|")) and not _BULLET.match(line) \
        and len(text.split()) <= _BLOCK_LINE_WORDS and text[-1] not in ".!?:;" and ": " not in text


def _leading_block(lines: list[str]) -> int:
    """How many of a paragraph's first lines make one block of short lines (0 when they make none): two lines or
    more, one of them with a figure (a street number, a postal code). Each line alone says little ("Canada"), the
    block together where the shop is."""
    size = 0
    while size < len(lines) and _block_line(lines[size]):
        size += 1
    return size if size >= 2 and any(c.isdigit() for line in lines[:size] for c in line) else 0


def split_units(content: str) -> list[Unit]:
    """The document's answering units, in document order."""
    units: list[Unit] = []
    title, heading, section = "", "", 0
    carry = ""  # a short line waiting for the sentence that completes it
    line_number, paragraph_number = -1, -1

    def add(text: str, kind: str, cells: tuple[str, ...] = (), label: str = "") -> None:
        nonlocal carry
        text = _clean(text)
        if not text or _METADATA.match(text):
            return
        if carry:
            label = label or (carry if carry.endswith("?") else "")
            text, carry = f"{carry} {text}", ""
        elif kind == "sentence" and len(text.split()) < _MIN_WORDS and not any(c.isdigit() for c in text):
            carry = text
            return
        units.append(Unit(text=text, context=_context(title, heading, text), section=section,
                          position=len(units), kind=kind, heading=heading, cells=cells, label=label,
                          line=line_number, paragraph=paragraph_number))

    for paragraph in re.split(r"\n\s*\n", content):
        raw = [line.strip() for line in paragraph.strip().splitlines() if line.strip()]
        paragraph_number += 1
        block = _leading_block(raw)
        if block:
            line_number += 1
            add(", ".join(_clean(line) for line in raw[:block]), "sentence")
        lines = _joined_lines(raw[block:])
        header: list[str] | None = None
        question: str | None = None
        schedules = _schedule_runs(lines)
        skip_to = 0
        for number, line in enumerate(lines):
            if number < skip_to:
                continue
            line_number += 1
            if number in schedules:
                skip_to = schedules[number]
                if carry and carry[-1:].isalnum():
                    carry = f"{carry}:"  # its label ("Pickup hours")
                add("; ".join(_clean(_BULLET.sub("", item)) for item in lines[number:skip_to]), "item")
                header = None
                continue
            if line.startswith("#"):
                carry = ""
                # The document's title (a level-1 heading) is every unit's subject: the embedder reads it, the
                # quote does not need it.
                if line.startswith("# "):
                    title, heading = _clean(line.lstrip("#")), ""
                else:
                    heading = _clean(line.lstrip("#"))
                section, header = section + 1, None
                continue
            if line.startswith("|") and line.endswith("|"):
                cells = [_clean(c) for c in line.strip("|").split("|")]
                if all(_TABLE_RULE.fullmatch(c) for c in cells if c):
                    continue
                if header is None:
                    header = cells
                    continue
                add(_row_text(header, cells), "row", tuple(c for c in cells if c))
                continue
            header = None
            text = _clean(_BULLET.sub("", line))
            if question is not None:
                # The answer under a FAQ question: one unit, quoted whole.
                add(f"{question} {text}", "qa", label=question)
                question = None
                continue
            if text.endswith("?") and line is lines[0] and len(lines) > 1 and not _BULLET.match(line):
                question = text
                continue
            if text.endswith("?") and len(lines) == 1:
                carry = f"{carry} {text}".strip()  # a question standing alone: its answer is the next paragraph
                continue
            parts = _line_sentences(_BULLET.sub("", line), text)
            kind = "item" if _BULLET.match(line) else "sentence"
            for index, part in enumerate(parts):
                if part.endswith("?") and index + 1 < len(parts):
                    carry = f"{carry} {part}".strip()  # "**Does it contain lead?** No, the glaze is lead-free."
                    continue
                add(part, kind)
        if question is not None:
            add(question, "sentence")
    if carry:
        units.append(Unit(text=carry, context=_context(title, heading, carry), section=section,
                          position=len(units), kind="sentence", heading=heading))
    return units


def _line_sentences(raw: str, text: str) -> list[str]:
    """The sentences of one line (``text``: the line without its markup), each with what cannot stand without it:
    a bold run-in label goes with the sentence it names, and a short sentence ("It's free.") or an aside in
    brackets after a sentence goes with that sentence ("Opened products. (A product that irritated your skin may
    be covered by the guarantee.)")."""
    parts = split_sentences(text)
    label = _RUN_IN.match(raw)
    if label and len(parts) > 1 and parts[0] == _clean(label.group(1)):
        parts[:2] = [f"{parts[0]} {parts[1]}"]
    joined: list[str] = []
    for part in parts:
        aside = part.lstrip("*_").startswith(("(", "["))
        short = len(part.split()) < _MIN_WORDS and not part.endswith(("?", ":"))
        if joined and not joined[-1].endswith("?") and (aside or short):
            joined[-1] = f"{joined[-1]} {part}"
        else:
            joined.append(part)
    return joined


def _context(title: str, heading: str, text: str) -> str:
    subject = " — ".join(part for part in (title, heading) if part)
    return f"{subject}: {text}" if subject else text


class UnitVectors:
    """The answering units of the pages and passages recently answered from, and the vectors of their units by the
    text the embedder reads (the embedder's own cache keeps the vectors across restarts; this keeps the split and
    the rows in memory). A unit is embedded once however many pages and passages hold it: a page, the chunk of it a
    search cites and two chunks joined share most of their units."""

    def __init__(self, capacity: int = 2048, rows: int = 16384):
        self._units: OrderedDict[str, list[Unit]] = OrderedDict()
        self._rows: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._capacity = capacity  # texts whose split is kept
        self._row_capacity = rows  # unit vectors kept
        self._lock = threading.Lock()

    def units(self, content: str) -> list[Unit]:
        with self._lock:
            found = self._units.get(content)
            if found is not None:
                self._units.move_to_end(content)
                return found
        units = split_units(content)
        with self._lock:
            self._units[content] = units
            while len(self._units) > self._capacity:
                self._units.popitem(last=False)
        return units

    def rows(self, embedder: Embedder, contexts: Sequence[str]) -> np.ndarray:
        """The vectors of these unit texts, in order; those not kept are embedded in one call."""
        model = embedder.model_id
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for context in contexts:
                row = self._rows.get((model, context))
                if row is not None:
                    self._rows.move_to_end((model, context))
                    found[context] = row
        missing = [c for c in dict.fromkeys(contexts) if c not in found]
        if missing:
            vectors = embedder.embed_passages(missing)
            with self._lock:
                for context, vector in zip(missing, vectors, strict=True):
                    found[context] = self._rows[(model, context)] = np.array(vector, dtype=np.float32)
                while len(self._rows) > self._row_capacity:
                    self._rows.popitem(last=False)
        if not contexts:
            return np.empty((0, embedder.dimension), dtype=np.float32)
        return np.stack([found[c] for c in contexts])

    def get(self, embedder: Embedder, content: str) -> tuple[list[Unit], np.ndarray]:
        units = self.units(content)
        return units, self.rows(embedder, [u.context for u in units])

    def relevance(self, embedder: Embedder, content: str, query: np.ndarray) -> tuple[list[Unit], np.ndarray]:
        """The document's units and how well each answers the question (``query``, a query vector): the similarity
        of what the embedder reads of it, plus ``SUBJECT_WEIGHT`` times that of its subject (``Unit.subject``)
        alone. A unit under a title or heading that names what is asked ("Gift cards" for "do gift cards
        expire?"), or a FAQ pair whose own question is the customer's, ranks above a sentence that only shares
        the question's wording; a long sentence's vector says little of the subject it is about."""
        units, vectors = self.get(embedder, content)
        if not units:
            return units, np.empty(0, dtype=np.float32)
        return units, self.weighed(embedder, units, vectors @ query, query)

    def weighed(self, embedder: Embedder, units: list[Unit], similarities: np.ndarray, query: np.ndarray
                ) -> np.ndarray:
        """The units' similarities to the question with their subjects' added (``relevance``); a unit with no
        subject of its own (a passage without title or heading) counts its own similarity again."""
        subjects = [u.subject for u in units]
        named = [s for s in dict.fromkeys(subjects) if s]
        about = dict(zip(named, self.rows(embedder, named) @ query, strict=True)) if named else {}
        subject = np.array([about.get(s, own) for s, own in zip(subjects, similarities, strict=True)],
                           dtype=np.float32)
        return similarities + SUBJECT_WEIGHT * subject


UNIT_VECTORS = UnitVectors()


@dataclass(frozen=True)
class Ranked:
    score: float
    similarity: float
    source: int  # index of the document in the caller's list
    unit: Unit


def page_focus(relevance: np.ndarray) -> float:
    """How far the mean of a page's ``PAGE_UNITS`` best units' relevance falls short of its best one (0 or less): a
    page about the question has several units close to it ("Digital gift cards": the amounts, the validity, the
    refunds), a page naming it in passing one ("Online we accept: … gift cards")."""
    if len(relevance) == 0:
        return 0.0
    top = np.sort(relevance)[::-1][:PAGE_UNITS]
    return float(top.mean() - top[0])


def rank_units(embedder: Embedder, question: str, documents: Sequence[tuple[str, float]],
               lexical: Callable[[Unit, int], float] | None = None) -> list[Ranked]:
    """Every unit of ``documents`` (text, prior), best first: similarity to the question, plus the document's prior
    and ``lexical(unit, document index)`` (both already weighted by the caller)."""
    return ReplyRanker(embedder)(question, documents, lexical)


class ReplyRanker:
    """:func:`rank_units` for the questions of one reply: the message and the parts of a question in several parts
    (``together``) are embedded in one call when the first of them is ranked, and a ``lexical`` function's score of
    a unit is computed once however many of the reply's questions rank that unit (it must depend on the unit and
    the document index alone)."""

    def __init__(self, embedder: Embedder, together: Sequence[str] = ()):
        self.embedder = embedder
        self._together = [t for t in dict.fromkeys(together) if t.strip()]
        self._queries: dict[str, np.ndarray] = {}
        self._bonus: dict[tuple[Callable[[Unit, int], float], int, Unit], float] = {}

    def _query(self, question: str) -> np.ndarray:
        if question not in self._queries:
            batch = [question] + [t for t in self._together if t != question and t not in self._queries] \
                if question in self._together else [question]
            self._queries.update(zip(batch, self.embedder.embed_queries(batch), strict=True))
        return self._queries[question]

    def __call__(self, question: str, documents: Sequence[tuple[str, float]],
                 lexical: Callable[[Unit, int], float] | None = None) -> list[Ranked]:
        if not documents or not question.strip():
            return []
        query = self._query(question)
        ranked: list[Ranked] = []
        for index, (content, prior) in enumerate(documents):
            units, vectors = UNIT_VECTORS.get(self.embedder, content)
            if not units:
                continue
            similarities = vectors @ query
            relevance = UNIT_VECTORS.weighed(self.embedder, units, similarities, query)
            prior += PAGE_WEIGHT * page_focus(relevance)
            for unit, similarity, relevant in zip(units, similarities, relevance, strict=True):
                bonus = self._lexical(lexical, unit, index) if lexical else 0.0
                ranked.append(Ranked(float(relevant) + prior + bonus, float(similarity), index, unit))
        ranked.sort(key=lambda r: (-r.score, r.source, r.unit.position))
        return ranked

    def _lexical(self, lexical: Callable[[Unit, int], float], unit: Unit, index: int) -> float:
        key = (lexical, index, unit)
        if key not in self._bonus:
            self._bonus[key] = lexical(unit, index)
        return self._bonus[key]
