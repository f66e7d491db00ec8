"""Retail glossary: the English words for the French and Spanish product words found in a customer message.

Catalogues are often written in English only while customers ask in French or Spanish ("¿tienen jabón de
lavanda?" for "Lavender Fields Soap"). ``knowledge/lexicon/retail-glossary.jsonl`` holds generic retail vocabulary
(one concept a line: ``{"en": [...], "fr": [...], "es": [...]}``), not any one shop's. Matching folds case and
accents, takes the longest phrase first and accepts regular plurals, so "baumes à lèvres" gives "lip balm".
"""

from __future__ import annotations

import json
import logging
from functools import cache
from pathlib import Path

from core.config import REPO_ROOT
from core.text import tokens

GLOSSARY_PATH = REPO_ROOT / "knowledge" / "lexicon" / "retail-glossary.jsonl"
# The same format for the words of a desk's usual topics (shipping, returns, fees, days, temperature...), which
# the offline response agent uses to find the answering sentence in a page of another language.
DESK_TOPICS_PATH = REPO_ROOT / "knowledge" / "lexicon" / "desk-topics.jsonl"
MAX_PHRASE = 4
LANGUAGES = ("en", "fr", "es")
log = logging.getLogger("shopdesk.glossary")


def _singular(word: str) -> str:
    """One form for singular and regular plural, applied to the glossary and the message alike: a final s or x,
    then a final e, go (chandelle / chandelles -> chandell, jabón / jabones -> jabon, bijou / bijoux -> bijou)."""
    if len(word) > 4 and word[-1] in "sx":
        word = word[:-1]
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word


def _key(words: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    return tuple(_singular(w) for w in words)


class Glossary:
    def __init__(self, entries: list[dict]):
        # (language written, language wanted) -> a phrase of the first (its words' keys) -> the second's phrases, in
        # the order the entries give them (the first is the usual word)
        self._to: dict[tuple[str, str], dict[tuple[str, ...], list[str]]] = {
            (source, target): {} for source in LANGUAGES for target in LANGUAGES if source != target}
        for entry in entries:
            for (source, target), table in self._to.items():
                wanted = [e for e in entry.get(target) or [] if isinstance(e, str) and e.strip()]
                for phrase in entry.get(source) or [] if wanted else []:
                    words = tokens(phrase) if isinstance(phrase, str) else []
                    if words and (len(words) > 1 or len(words[0]) >= 3):
                        known = table.setdefault(_key(words), [])
                        known.extend(w for w in wanted if w not in known)

    def __len__(self) -> int:
        return len({key for (_, target), table in self._to.items() if target == "en" for key in table})

    def english_words(self, text: str) -> set[str]:
        """English title words for the French and Spanish glossary phrases in ``text`` (longest match first)."""
        return self.words_in(text, "en", "fr") | self.words_in(text, "en", "es")

    def translation(self, phrase: str, language: str) -> str | None:
        """The usual ``language`` word for ``phrase`` when the whole phrase is one glossary entry of another
        language ("Black" → "noir" in French); None otherwise."""
        key = _key(tokens(phrase))
        for written_in in LANGUAGES:
            found = self._to.get((written_in, language), {}).get(key) if key else None
            if found:
                return found[0]
        return None

    def words_in(self, text: str, language: str, written_in: str) -> set[str]:
        """The words of ``language`` (en, fr, es) for the glossary phrases of ``written_in`` in ``text`` (longest
        match first): a phrase is looked up only in the language the text is written in ("sell" is no French
        "selle")."""
        table = self._to.get((written_in, language), {})
        words = tokens(text)
        keys = [_singular(w) for w in words]
        found: set[str] = set()
        i = 0
        while i < len(keys):
            for size in range(min(MAX_PHRASE, len(keys) - i), 0, -1):
                phrases = table.get(tuple(keys[i:i + size]))
                if phrases:
                    for phrase in phrases:
                        found.update(tokens(phrase))
                    i += size
                    break
            else:
                i += 1
        return found


def load(paths: list[Path]) -> Glossary:
    return Glossary(load_entries(paths))


def load_entries(paths: list[Path]) -> list[dict]:
    """The concepts of glossary files (one JSON object a line: ``{"en": [...], "fr": [...], "es": [...]}``)."""
    entries: list[dict] = []
    for path in paths:
        if not path.is_file():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                log.warning("glossary %s line %d is not JSON; skipped", path.name, number)
                continue
            if isinstance(entry, dict):
                entries.append(entry)
    return entries


@cache
def _loaded(path: Path) -> Glossary:
    return load([path])


def default_glossary() -> Glossary:
    """The retail glossary (``GLOSSARY_PATH``), read once."""
    return _loaded(GLOSSARY_PATH)


def desk_topics() -> Glossary:
    """The desk-topic words (``DESK_TOPICS_PATH``) as a glossary: French and Spanish to English, read once."""
    return _loaded(DESK_TOPICS_PATH)
