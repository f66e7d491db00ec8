"""Intent agent: label + confidence + language + entities for one customer message.

Offline, the label comes from a classifier trained on the project's own labelled utterances
(``knowledge/intents/*.jsonl``, split ``train``): TF-IDF over word and character n-grams with a multinomial
logistic regression, trained once per process (≈1 s) or loaded from the cache written by ``make setup``.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from core.config import REPO_ROOT
from core.models import Entities, IntentResult, Language
from core.text import detect_language, fold

LABELS = (
    "order_status", "shipping", "returns_refunds", "product_info", "payment_billing", "account",
    "promotions", "complaint_escalation", "general",
)
INTENTS_DIR = REPO_ROOT / "knowledge" / "intents"

_ORDER_RE = re.compile(
    r"(?:#\s?|\bn[°ºo]\.?\s?|\bnum(?:ber|[eé]ro)?\.?\s?|\border\s+(?:number\s+|no\.?\s*|#\s*)?"
    r"|\bcommande\s+(?:n[°o]\.?\s*|#\s*|num[eé]ro\s+)?|\bpedido\s+(?:n[°ºo]\.?\s*|#\s*|n[uú]mero\s+)?)(\d{3,10})\b",
    re.I,
)
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_AMOUNT_RE = re.compile(
    r"(?:\$\s?\d+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?\s?(?:\$|€|cad|usd|eur|dollars?|euros?))", re.I
)
_HUMAN_RE = re.compile(
    r"\b(human|real person|live agent|an agent|representative|manager|supervisor|speak to (someone|a person)"
    r"|talk to (someone|a person)|un humain|une vraie personne|un agent|un conseiller|une conseill[eè]re"
    r"|parler [àa] (quelqu'un|une personne)|un responsable|una persona|un humano|un agente|hablar con alguien"
    r"|un representante|un supervisor|el gerente)\b",
    re.I,
)


@dataclass
class _Model:
    pipeline: object
    labels: list[str]
    fingerprint: str


_model: _Model | None = None
_lock = threading.Lock()


def load_examples(split: str | None = None, folder: Path = INTENTS_DIR) -> list[dict]:
    rows = []
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                if split is None or row.get("split") == split:
                    rows.append(row)
    return rows


def _fingerprint(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.jsonl")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def train(rows: list[dict]):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, make_pipeline

    features = FeatureUnion([
        ("words", TfidfVectorizer(preprocessor=fold, ngram_range=(1, 2), sublinear_tf=True, min_df=1)),
        ("chars", TfidfVectorizer(preprocessor=fold, analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                  min_df=2)),
    ])
    pipeline = make_pipeline(features, LogisticRegression(C=8.0, max_iter=2000))
    pipeline.fit([r["text"] for r in rows], [r["label"] for r in rows])
    return pipeline


def _cache_path(fingerprint: str) -> Path:
    return REPO_ROOT / ".data" / f"intent-model-{fingerprint}.joblib"


def get_model() -> _Model:
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                if not list(INTENTS_DIR.glob("*.jsonl")):
                    raise RuntimeError(f"no labelled utterances under {INTENTS_DIR}")
                fingerprint = _fingerprint(INTENTS_DIR)
                cache = _cache_path(fingerprint)
                pipeline = None
                if cache.exists():
                    import joblib

                    try:
                        pipeline = joblib.load(cache)
                    except Exception:  # a stale or partial cache is rebuilt, never trusted
                        pipeline = None
                if pipeline is None:
                    pipeline = train(load_examples("train"))
                    try:
                        import joblib

                        cache.parent.mkdir(parents=True, exist_ok=True)
                        joblib.dump(pipeline, cache)
                    except OSError:
                        pass
                _model = _Model(pipeline, list(pipeline.classes_), fingerprint)
    return _model


def extract_entities(text: str) -> Entities:
    orders = list(dict.fromkeys(m.group(1) for m in _ORDER_RE.finditer(text)))
    emails = list(dict.fromkeys(_EMAIL_RE.findall(text)))
    amounts = list(dict.fromkeys(a.strip() for a in _AMOUNT_RE.findall(text)))
    return Entities(order_numbers=orders, emails=emails, amounts=amounts)


def wants_human(text: str) -> bool:
    return bool(_HUMAN_RE.search(text))


def classify(text: str, lang: str | None = None) -> IntentResult:
    """Public API: ``label``, ``confidence`` (0..1), ``language`` (en/fr/es) and entities."""
    model = get_model()
    probabilities = model.pipeline.predict_proba([text])[0]  # type: ignore[attr-defined]
    best = int(probabilities.argmax())
    language: Language
    if lang and lang[:2].lower() in ("en", "fr", "es"):
        language = lang[:2].lower()  # type: ignore[assignment]
    else:
        language = detect_language(text)[0]  # type: ignore[assignment]
    return IntentResult(
        label=model.labels[best],
        confidence=round(float(probabilities[best]), 4),
        language=language,
        entities=extract_entities(text),
        wants_human=wants_human(text),
    )
