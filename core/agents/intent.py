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
from core.language import detect as detect_language
from core.text import fold

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


INTENT_SCHEMA = {
    "type": "object",
    "properties": {
        "label": {"type": "string", "enum": list(LABELS)},
        "sub_intent": {"type": "string"},
        "confidence": {"type": "number"},
        "language": {"type": "string", "enum": ["en", "fr", "es"]},
        "wants_human": {"type": "boolean"},
        "products": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["label", "sub_intent", "confidence", "language", "wants_human", "products"],
    "additionalProperties": False,
}

_SYSTEM = (
    "You classify one customer-service message for an online shop. Labels: order_status (a placed order: where it "
    "is, tracking, delivery, history, cancellation or address change before shipping), shipping (general shipping "
    "policy: costs, times, countries, customs), returns_refunds (returns, refunds, exchanges, damaged/wrong/defective "
    "item received), product_info (price, stock, ingredients, sizes, comparisons, recommendations), payment_billing "
    "(payment methods, declined cards, charges, invoices, gift cards), account (login, password, email preferences, "
    "subscriptions, personal data), promotions (discount codes, sales, loyalty points, newsletter for deals), "
    "complaint_escalation (wants a human or manager, threats of chargeback/dispute/review, formal complaints, "
    "repeated failures), general (greetings, thanks, store hours/location, wholesale, gift wrapping, anything else). "
    "Answer with JSON only. language is the message's language (en, fr or es); confidence is 0..1; products lists "
    "product names mentioned; wants_human is true only if the customer asks for a person."
)


def understand(text: str, lang: str | None, *, router, tenant_id: str, conversation_id: str,
               history: list[dict] | None = None) -> IntentResult:
    """Model path when a provider is configured (structured output against INTENT_SCHEMA); otherwise, and as the
    router's last resort, the offline classifier."""
    from core.llm.types import CompletionRequest, Message
    from core.models import Usage

    offline = classify(text, lang)
    if router is None or router.offline_only:
        return offline
    context = "".join(f"Previous customer message: {h['user']}\n" for h in (history or [])[-2:])
    request = CompletionRequest(
        agent="intent", tenant_id=tenant_id, conversation_id=conversation_id, json_schema=INTENT_SCHEMA,
        messages=[Message("system", _SYSTEM), Message("user", f"{context}Message: {text}")],
        offline=lambda: json.dumps({"label": offline.label}), temperature=0.0, max_tokens=200,
    )
    completion = router.complete(request)
    if completion.provider == "offline":
        return offline
    try:
        data = json.loads(completion.content)
        label = data["label"] if data.get("label") in LABELS else offline.label
        language = data.get("language") if data.get("language") in ("en", "fr", "es") else offline.language
        if lang and lang[:2].lower() in ("en", "fr", "es"):
            language = lang[:2].lower()
        confidence = min(max(float(data.get("confidence", 0.5)), 0.0), 1.0)
    except (ValueError, KeyError, TypeError):
        return offline
    return IntentResult(
        label=label, confidence=confidence, language=language, sub_intent=data.get("sub_intent") or None,
        entities=offline.entities, wants_human=bool(data.get("wants_human")) or offline.wants_human,
        usage=Usage(provider=completion.provider, tokens=completion.tokens, cost=completion.cost),
    )
