"""Language identification (en / fr / es) of customer messages, replies and documents: ``detect(text)``, the one
detector every agent uses.

A character n-gram classifier trained on the project's labelled utterances (knowledge/intents, train split) handles
short, accent-less and code-switched text far better than word lists. Decisive marks (¿ ¡ ñ) settle Spanish at
once, and function words and greetings that point to one language ("Hello!", "merci", "hola") overrule a
classifier that is unsure (below 0.8).

``make eval-language`` measures it on every labelled utterance, on the blind set and on short messages.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

from core import lexicon
from core.text import FUNCTION_WORDS
from core.utterances import load_examples

_LANG = {"en": "en", "fr-CA": "fr", "fr": "fr", "es": "es"}
# Letters that lean towards one language (a weak signal, half a function word each).
_MARKERS = {language: frozenset(letters) for language, letters in lexicon.load("language")["letters"].items()
            if language != "note"}
_DECISIVE = re.compile(r"[¿¡ñ]")
_FRENCH_ELISION = re.compile(r"\b(qu'|j'|l'|d'|c'est|n'|s'il)")
_WORD = re.compile(r"[a-zà-ÿ'’-]+")
# The classifier's confidence below which a message that is all one language's function words is that language.
_UNSURE = 0.8
_model = None
_lock = threading.Lock()


def _train():
    # scikit-learn (heavy) loads only when the classifier is trained, at the first detection.
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    rows = [r for r in load_examples("train") if r.get("lang") in _LANG]
    if not rows:
        return None
    texts = [r["text"] for r in rows]
    labels = [_LANG[r["lang"]] for r in rows]
    pipeline = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True, lowercase=True, min_df=2),
        LogisticRegression(C=10.0, max_iter=2000),
    )
    pipeline.fit(texts, labels)
    return pipeline


def _get_model():
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                _model = _train() or False
    return _model or None


def _function_word_vote(text: str) -> tuple[str, float]:
    """(en|fr|es, share of the signal) from function words, characteristic letters and French elisions; ("en", 0.0)
    when the text has none of them."""
    lowered = text.lower()
    scores = {lang: 0.0 for lang in FUNCTION_WORDS}
    for word in _WORD.findall(lowered):
        for lang, vocab in FUNCTION_WORDS.items():
            if word in vocab:
                scores[lang] += 1.0
    for lang, chars in _MARKERS.items():
        scores[lang] += 0.5 * sum(lowered.count(ch) for ch in chars)
    if _FRENCH_ELISION.search(lowered):
        scores["fr"] += 1.5
    total = sum(scores.values())
    if total == 0:
        return "en", 0.0
    best = max(scores, key=lambda k: scores[k])
    return best, round(scores[best] / total, 3)


@lru_cache(maxsize=8192)
def detect(text: str) -> tuple[str, float]:
    """(en|fr|es, confidence 0..1)."""
    if _DECISIVE.search(text):
        return "es", 0.99
    model = _get_model()
    if model is None:
        return _function_word_vote(text)
    probabilities = model.predict_proba([text])[0]
    best = int(probabilities.argmax())
    language, confidence = str(model.classes_[best]), float(probabilities[best])
    voted, vote_share = _function_word_vote(text)
    if voted != language and vote_share >= 0.8 and confidence < _UNSURE:
        return voted, round(vote_share * 0.8, 3)
    return language, round(confidence, 3)
