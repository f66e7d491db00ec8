"""The answering units of a knowledge document: its sentences, each table row with its column headers, and each
FAQ question with its answer.

A reply quotes units, never a whole section: "Free on orders of $75 or more" is one sentence of a shipping page, a
row "Alaska & Hawaii: USPS Priority, 3–6 business days, $14.95" is one line of its rate table, and "Do you ship to
Mexico? No, we ship within the US only" is one question and answer of its FAQ.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.text import sentences, strip_markup

_TABLE_RULE = re.compile(r":?-{2,}:?")
# A FAQ question: a line of its own ending with "?", in bold or as a heading ("**Do you ship to Mexico?**").
_QUESTION_LINE = re.compile(r"^(?:#{1,6}\s+|\*\*|__)?(?P<q>[^*_#][^\n]*\?)\s*(?:\*\*|__)?\s*$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


@dataclass
class Unit:
    text: str  # what a reply quotes
    heading: str  # the section heading above it ("" under the title)
    kind: str  # "sentence", "row" or "qa"
    index: int  # position in the document
    section: int
    question: str = ""  # a FAQ unit's question

    @property
    def matched_text(self) -> str:
        """The text a question is matched against: a FAQ answer with its question, a row with its caption."""
        if self.question:
            return f"{self.question} {self.text}"
        if self.kind == "row" and self.heading:
            return f"{self.heading}: {self.text}"
        return self.text


def _row_text(header: list[str], cells: list[str]) -> str:
    # "Alaska & Hawaii: USPS Priority, 3–6 business days, $14.95" — the first cell names the row; the others keep
    # their column name when it says what a bare figure is ("Delivery: 3–6 business days").
    # (a two-column table's second header only repeats what its caption says: "Day | Hours" under "Opening hours")
    named = [f"{h}: {c}" if h and c and len(c) <= 40 and len(header) > 2 else c
             for h, c in zip(header[1:], cells[1:], strict=False)]
    return f"{cells[0]}: " + ", ".join(n for n in named if n) if len(cells) > 1 else cells[0]


def units(document: str) -> list[Unit]:
    """Units in document order (a product page's catalogue lines included: callers drop what they don't quote)."""
    out: list[Unit] = []
    heading, section = "", 0
    paragraph: list[str] = []
    header: list[str] | None = None
    question = ""
    answer: list[str] = []

    def add(text: str, kind: str, q: str = "") -> None:
        text = strip_markup(text).strip()
        if len(text) > 3:
            out.append(Unit(text, heading, kind, len(out), section, strip_markup(q).strip()))

    def flush_paragraph() -> None:
        if paragraph:
            for sentence in sentences(" ".join(paragraph)):
                add(sentence, "sentence")
            paragraph.clear()

    def flush_answer() -> None:
        nonlocal question
        if question:
            if answer:
                add(" ".join(answer), "qa", question)
            question = ""
            answer.clear()

    for raw in document.splitlines():
        line = raw.strip()
        if line.startswith("|") and line.endswith("|"):
            flush_paragraph()
            flush_answer()
            cells = [c.strip() for c in line.strip("|").split("|")]
            if all(_TABLE_RULE.fullmatch(c) for c in cells if c):
                continue
            if header is None:
                header = cells
                continue
            add(_row_text(header, cells), "row")
            continue
        header = None
        if not line:
            flush_paragraph()
            if question and answer:
                flush_answer()
            continue
        match = _QUESTION_LINE.match(line)
        if match and len(line) <= 200:
            flush_paragraph()
            flush_answer()
            question = match.group("q").strip()
            continue
        heading_match = _HEADING.match(line)
        if heading_match:
            flush_paragraph()
            flush_answer()
            if len(heading_match.group(1)) > 1:  # the title (level 1) is every unit's: it tells none apart
                heading, section = strip_markup(heading_match.group(2)).strip(), section + 1
            continue
        if question:
            answer.append(line)
        elif line.startswith(("- ", "* ", "+ ")) or re.match(r"\d+[.)]\s", line):
            flush_paragraph()
            add(re.sub(r"^(?:[-*+]|\d+[.)])\s+", "", line), "sentence")
        else:
            paragraph.append(line)
    flush_paragraph()
    flush_answer()
    return out
