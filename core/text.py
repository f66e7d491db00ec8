"""Text utilities shared by the agents: accent folding, tokenization, sentence split, the function words of en / fr /
es (language detection in ``core.language`` scores them; retrieval ignores them)."""

from __future__ import annotations

import re
import unicodedata

from core import lexicon

_WORD_RE = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
# French elided articles and pronouns ("l'autoship", "d'ouverture", "qu'il", "jusqu'à") are not part of the word.
_ELISION = re.compile(r"^(?:jusqu|lorsqu|puisqu|qu|[cdjlmnst])['’](?=[a-z])")
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-ÖØ-Þ¿¡0-9\"“«(])")

_LANGUAGE = lexicon.load("language")
# Function words are the most reliable short-text language signal (``core.language``).
FUNCTION_WORDS: dict[str, frozenset[str]] = {
    language: frozenset(lexicon.words(text)) for language, text in _LANGUAGE["function_words"].items()
}
# Function words carry no topic: retrieval ignores them (accent-folded, all three languages), except topic words.
_TOPIC_WORDS = frozenset(lexicon.words(_LANGUAGE["topic_words"]["words"]))
STOPWORDS = frozenset(
    unicodedata.normalize("NFKD", w).encode("ascii", "ignore").decode()
    for words in FUNCTION_WORDS.values() for w in words if w not in _TOPIC_WORDS
)


class _CombiningMarks(dict):
    """A ``str.translate`` table that drops combining marks (``unicodedata.combining`` non-zero) and keeps every other
    character, filled in as characters are met."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.combining(chr(code)) else code
        self[code] = kept
        return kept


_DROP_COMBINING = _CombiningMarks()


def fold(text: str) -> str:
    """Lowercase and strip accents (é → e) so queries match with or without diacritics."""
    lowered = text.lower()
    if lowered.isascii():  # NFKD leaves ASCII as it is, and no ASCII character is a combining mark
        return lowered
    return unicodedata.normalize("NFKD", lowered).translate(_DROP_COMBINING)


def tokens(text: str) -> list[str]:
    """Accent-folded words; a French elision is dropped ("l'Autoship" → "autoship", "d'ouverture" → "ouverture")."""
    return [_ELISION.sub("", word) if "'" in word or "’" in word else word
            for word in _WORD_RE.findall(fold(text))]


_MARKUP = re.compile(r"\*\*|__|`|^#+\s*", re.M)


def strip_markup(text: str) -> str:
    """Drop Markdown emphasis and heading marks so quoted passages read as plain text."""
    return _MARKUP.sub("", text)


def sentences(text: str) -> list[str]:
    """Sentences of a Markdown passage; headings and list items are sentences of their own."""
    return [sentence for sentence, _ in sentence_blocks(text)]


def sentence_blocks(text: str) -> list[tuple[str, bool]]:
    """``sentences`` with, for each, whether it is a Markdown table read as one sentence (its section heading is then
    its caption: the words that say what its figures are)."""
    blocks: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            blocks.append(" ".join(current))
            current.clear()

    table: list[str] = []
    header_seen = False

    whole: set[int] = set()  # blocks never split into sentences: a table's cells may hold "Dec. 31. Final sale"

    def flush_table() -> None:
        nonlocal header_seen
        if table:
            whole.add(len(blocks))
            blocks.append("; ".join(table) + ".")
            table.clear()
        header_seen = False

    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("|") and stripped.endswith("|"):
            # A Markdown table reads as one sentence: "Monday: Closed; Wednesday: 11:00 – 18:00; …".
            flush()
            cells = [c.strip().rstrip(".") for c in stripped.strip("|").split("|")]
            if all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
                continue
            if not header_seen:
                header_seen = True  # the header row names columns, not facts
                continue
            table.append(f"{cells[0]}: " + ", ".join(c for c in cells[1:] if c))
            continue
        flush_table()
        if not stripped:
            flush()
        elif stripped.startswith("#"):
            flush()
            blocks.append(stripped)
        elif re.match(r"([-*•]|\d+\.)\s", stripped):
            flush()
            current.append(re.sub(r"^([-*•]|\d+\.)\s+", "", stripped))
        else:
            current.append(stripped)
    flush()
    flush_table()
    out: list[tuple[str, bool]] = []
    for i, block in enumerate(blocks):
        if i in whole:
            out.append((block, True))
        else:
            out.extend((part.strip(), False) for part in _SENTENCE_RE.split(block) if part.strip())
    return out

