"""Language identification (en / fr / es) for short customer messages.

A character n-gram classifier trained on the project's labelled utterances (knowledge/intents, train split)
handles short, accent-less and code-switched text far better than word lists; decisive marks (¿ ¡ ñ) and the
function-word heuristic in core.text back it up.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

from core.text import detect_language as heuristic_language
from core.utterances import load_examples

_LANG = {"en": "en", "fr-CA": "fr", "fr": "fr", "es": "es"}
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


@lru_cache(maxsize=8192)
def detect(text: str) -> tuple[str, float]:
    """(en|fr|es, confidence 0..1)."""
    if re.search(r"[¿¡ñ]", text):
        return "es", 0.99
    model = _get_model()
    if model is None:
        return heuristic_language(text)
    probabilities = model.predict_proba([text])[0]
    best = int(probabilities.argmax())
    language, confidence = str(model.classes_[best]), float(probabilities[best])
    heuristic, heuristic_confidence = heuristic_language(text)
    if heuristic != language and heuristic_confidence >= 0.8 and confidence < 0.6:
        return heuristic, round(heuristic_confidence * 0.8, 3)
    return language, round(confidence, 3)
