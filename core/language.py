"""Language identification (en / fr / es) of customer messages, replies and documents: ``detect(text)``, the one
detector every agent uses.

lingua-language-detector (its n-gram models ship in its wheel), restricted to English, French and Spanish, decides.
A one- or two-word message ("Hello!", "merci", "hola") carries too few letters for it: when it is unsure, the words'
own evidence decides, counted from the labelled customer utterances of each language (knowledge/intents, train
split) as a naive Bayes vote; a message made only of words all three languages use ("ok") is language-neutral
(confidence at most 0.4). The inverted marks ¿ ¡ settle Spanish at once.

``make eval-language`` measures it on every labelled utterance, on the blind set and on short messages.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from functools import lru_cache

from core.text import tokens
from core.utterances import load_examples

_LANG = {"en": "en", "fr-CA": "fr", "fr": "fr", "es": "es"}
_DECISIVE = re.compile(r"[¿¡]")
# lingua's confidence below which the words' evidence is asked too.
_UNSURE = 0.7
# A message made only of words each language's utterances use (at least this often) gets at most this confidence:
# callers keep the conversation's language below 0.5.
_SHARED_COUNT = 3
_NEUTRAL = 0.4
_detector = None
_word_counts: dict[str, Counter] | None = None
_lock = threading.Lock()


def _lingua():
    global _detector
    if _detector is None:
        with _lock:
            if _detector is None:
                from lingua import Language, LanguageDetectorBuilder

                _detector = LanguageDetectorBuilder.from_languages(
                    Language.ENGLISH, Language.FRENCH, Language.SPANISH).build()
    return _detector


def _words_by_language() -> dict[str, Counter]:
    global _word_counts
    if _word_counts is None:
        with _lock:
            if _word_counts is None:
                counts: dict[str, Counter] = {"en": Counter(), "fr": Counter(), "es": Counter()}
                for row in load_examples("train"):
                    language = _LANG.get(row.get("lang", ""))
                    if language:
                        counts[language].update(set(tokens(row["text"])))
                _word_counts = counts
    return _word_counts


def _word_vote(text: str) -> dict[str, float]:
    """P(language | words) from how often each word occurs in each language's utterances (add-one smoothed);
    uniform when no word was ever seen."""
    counts = _words_by_language()
    totals = {lang: sum(c.values()) or 1 for lang, c in counts.items()}
    words = [w for w in tokens(text) if any(w in c for c in counts.values())]
    if not words:
        return {lang: 1 / 3 for lang in counts}
    logs = {lang: sum(math.log((counts[lang][w] + 1) / (totals[lang] + 1000)) for w in words) for lang in counts}
    top = max(logs.values())
    exp = {lang: math.exp(v - top) for lang, v in logs.items()}
    total = sum(exp.values())
    return {lang: v / total for lang, v in exp.items()}


def _shared_words_only(text: str) -> bool:
    """Every word of the message is common in the utterances of all three languages ("ok", "super", "taxi")."""
    counts = _words_by_language()
    words = tokens(text)
    return bool(words) and all(all(c[w] >= _SHARED_COUNT for c in counts.values()) for w in words)


# A name in parentheses or typographic quotation marks ("le grand bol (tazón 20 cm)", "the «Sin Aroma» soap") is the
# shop's word, in the catalogue's language: when it leaves the detector unsure, the words around it decide.
# (Straight quotes are left alone: 6" and 10" are inches.)
_QUOTED = re.compile(r"\([^()]*\)|«[^«»]*»|“[^“”]*”")
_MIN_LEFT = 3  # words that must remain around the quoted names
_SURE = 0.9


@lru_cache(maxsize=8192)
def detect(text: str) -> tuple[str, float]:
    """(en|fr|es, confidence 0..1)."""
    whole = _detect(text)
    unquoted = _QUOTED.sub(" ", text)
    if whole[1] < _SURE and unquoted != text and len(tokens(unquoted)) >= _MIN_LEFT:
        around = _detect(unquoted)
        if around[0] != whole[0] and around[1] >= _SURE:
            return around
    return whole


def _detect(text: str) -> tuple[str, float]:
    if _DECISIVE.search(text):
        return "es", 0.99
    scores = {v.language.iso_code_639_1.name.lower(): float(v.value)
              for v in _lingua().compute_language_confidence_values(text)}
    if not any(scores.values()):
        return "en", 0.0  # no letters to go by ("1234 5678")
    language = max(scores, key=lambda k: scores[k])
    if _shared_words_only(text):
        return language, min(round(scores[language], 3), _NEUTRAL)  # "ok", "super": says nothing about language
    if scores[language] < _UNSURE:
        vote = _word_vote(text)
        combined = {lang: scores.get(lang, 0.0) * vote[lang] for lang in vote}
        total = sum(combined.values()) or 1.0
        language = max(combined, key=lambda k: combined[k])
        return language, round(combined[language] / total, 3)
    return language, round(scores[language], 3)
