"""The multilingual data of the agents, read once from ``core/agents/data/<name>.json``: reply and e-mail templates
(``Templates``), word lists and phrase lexicons in en / fr / es.

A lexicon entry is ``{"note": what it is for, "en": [...], "fr": [...], "es": [...]}``: each phrase is a regular
expression (the file's note says over which form of the text); ``alternatives`` joins every language's phrases into
one group for the module that matches them. A template entry is ``{"en": ..., "fr": ..., "es": ...}`` with the same
``{placeholders}`` in each language.
"""

from __future__ import annotations

import functools
import json
import re
import string
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "agents" / "data"
LANGUAGES = ("en", "fr", "es")


@functools.cache
def load(name: str) -> dict[str, Any]:
    """The data file ``core/agents/data/<name>.json``."""
    return json.loads((DATA_DIR / f"{name}.json").read_text(encoding="utf-8"))


def by_language(entry: dict[str, Any]) -> dict[str, Any]:
    """A data entry's values by language, without its ``note``."""
    return {key: value for key, value in entry.items() if key != "note"}


def phrases(entry: dict[str, Any]) -> list[str]:
    """Every language's phrases of a lexicon entry, in file order."""
    return [phrase for language in LANGUAGES for phrase in entry.get(language, [])]


def alternatives(entry: dict[str, Any], **parts: str) -> str:
    """``(?:phrase|phrase|…)`` over every language's phrases; ``{NAME}`` in a phrase is replaced by ``parts[NAME]``
    (a group built the same way from another entry)."""
    found = phrases(entry)
    if not found:
        raise ValueError("a lexicon entry needs phrases in at least one language")
    for name, value in parts.items():
        found = [phrase.replace("{" + name + "}", value) for phrase in found]
    return "(?:" + "|".join(found) + ")"


def words(text: str) -> list[str]:
    """A word list kept as one space-separated string."""
    return text.split()


def _placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


class Templates:
    """Texts in en / fr / es with ``{placeholders}``, by key: ``render(key, language, **values)``."""

    def __init__(self, table: dict[str, dict[str, str]]):
        for key, entry in table.items():
            missing = [language for language in LANGUAGES if not isinstance(entry.get(language), str)]
            if missing:
                raise ValueError(f"template {key!r} has no text in {', '.join(missing)}")
            fields = {language: _placeholders(entry[language]) for language in LANGUAGES}
            if len({frozenset(f) for f in fields.values()}) != 1:
                raise ValueError(f"template {key!r} has other placeholders in one language: {fields}")
        self._table = {key: {language: entry[language] for language in LANGUAGES} for key, entry in table.items()}

    @classmethod
    def from_file(cls, name: str) -> Templates:
        """The ``templates`` of ``core/agents/data/<name>.json``."""
        return cls(load(name)["templates"])

    def __contains__(self, key: object) -> bool:
        return key in self._table

    def keys(self) -> list[str]:
        return list(self._table)

    def render(self, key: str, language: str, **values: object) -> str:
        """The ``language`` text of ``key`` filled with ``values`` (English for a language without texts)."""
        texts = self._table[key]
        return texts.get(language, texts["en"]).format(**values)


def compile_phrases(entry: dict[str, Any], flags: int = 0, *, whole_words: bool = False, **parts: str) -> re.Pattern:
    r"""One compiled pattern for a lexicon entry (``whole_words``: between ``\b`` word boundaries)."""
    group = alternatives(entry, **parts)
    return re.compile(rf"\b{group}\b" if whole_words else group, flags)
