"""The escalation agent's learned judgement: should a person from the shop take this message over, and why?

Customers ask for a person, complain, report an injury or a device that stays dead, want a business quote, threaten a
lawyer or a public review, lose patience, need a refund decision, report a broken, spoiled or defective item or insult
the staff in every language and style (terse, misspelt, long and angry, non-native, support tickets). A phrase list
only knows the wordings it was given; this classifier is trained on labelled messages
(``knowledge/escalation/*.jsonl``: ``text``, ``escalate``, ``reason``, ``lang``, ``style``; escalations, ordinary
questions and grumpy-but-answerable look-alikes in en / fr-CA / es) plus the intent utterances whose label says the
same thing (a complaint, a request for a person, an adverse reaction as ``safety``; the ordinary topics as ``none``).
Features are the intent agent's: multilingual-e5-small sentence embeddings (shared, so the message is embedded once
per turn) and character n-grams, into a logistic regression over the reasons. It is trained by ``make setup``
(``python -m core.agents.escalation_model train``) and shipped in the package's artifacts under a fingerprint of its
data and of the embedding engine.

What does not vary with language stays a rule in ``core.agents.escalation``: the refund amount above the shop's
limit, repeated unanswered turns, and the intent and input-screen signals.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from core.agents.intent import SentenceEmbeddings, embedding_engine_id
from core.agents.model_cache import TrainedModel, class_probabilities, data_fingerprint, ship
from core.config import REPO_ROOT
from core.text import fold
from core.utterances import INTENTS_DIR, load_examples

ESCALATION_DIR = REPO_ROOT / "knowledge" / "escalation"
MODEL_VERSION = "escalation-e5+chars-3"
NONE = "none"
#: Escalated when "none" is less likely than this (``make eval-escalation`` shows precision and recall per language).
ESCALATE_BELOW = 0.65

#: Intent sub-intents that are an escalation reason, and the ones whose messages may or may not be one (a parcel
#: marked delivered that never came, a damaged or defective item, a wholesale enquiry): those are not trained on.
_FROM_INTENT = {
    "complaint_escalation.human_request": "human_request", "complaint_escalation.manager": "human_request",
    "complaint_escalation.formal_complaint": "complaint", "complaint_escalation.review_threat": "legal_threat",
    "complaint_escalation.legal_threat": "legal_threat", "complaint_escalation.chargeback_threat": "legal_threat",
    "complaint_escalation.angry": "frustration", "complaint_escalation.repeated_failure": "frustration",
    "returns_refunds.adverse_reaction": "safety",
}
_UNDECIDED = {"order_status.not_received", "returns_refunds.damaged_item", "returns_refunds.defective",
              "returns_refunds.partial_refund", "general.wholesale", "general.collaboration", "general.vendor_pitch",
              "payment_billing.fraud"}


def load_rows(folder: Path = ESCALATION_DIR, pattern: str = "*.jsonl") -> list[dict]:
    rows = []
    for path in sorted(folder.glob(pattern)):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows


def label_of(row: dict) -> str:
    return row["reason"] if row["escalate"] else NONE


def intent_rows() -> list[tuple[str, str]]:
    """(text, reason) from the intent utterances where the intent label says it; complaints without a sub-intent
    ("when is customer service open?" is one) are left out."""
    out = []
    for row in load_examples("train"):
        sub = row.get("sub_intent") or ""
        if sub in _FROM_INTENT:
            out.append((row["text"], _FROM_INTENT[sub]))
        elif row["label"] != "complaint_escalation" and sub not in _UNDECIDED:
            out.append((row["text"], NONE))
    return out


#: Weight of a message written for escalation (often a look-alike) against an intent utterance reused as ``none``.
OWN_ROW_WEIGHT = 3.0
#: The escalations together weigh this share of what the ordinary messages weigh, split evenly over the reasons, so
#: that a reason with few examples still counts and an ordinary look-alike is not outweighed by them.
ESCALATION_SHARE = 1.0


def training_set(rows: list[dict], extra: list[tuple[str, str]] | None = None
                 ) -> tuple[list[str], list[str], list[float]]:
    """Texts, labels and sample weights: the escalation rows and the intent utterances (``extra`` replaces them when
    given)."""
    extra = intent_rows() if extra is None else extra
    texts = [r["text"] for r in rows] + [t for t, _ in extra]
    labels = [label_of(r) for r in rows] + [r for _, r in extra]
    source = [OWN_ROW_WEIGHT] * len(rows) + [1.0] * len(extra)
    ordinary = sum(w for w, label in zip(source, labels, strict=True) if label == NONE)
    per_reason = {label: sum(w for w, other in zip(source, labels, strict=True) if other == label)
                  for label in set(labels) - {NONE}}
    scale = {label: ordinary * ESCALATION_SHARE / len(per_reason) / total for label, total in per_reason.items()}
    weights = [w * scale.get(label, 1.0) for w, label in zip(source, labels, strict=True)]
    return texts, labels, weights


def train(texts: list[str], labels: list[str], weights: list[float] | None = None):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, make_pipeline

    features = FeatureUnion([
        ("e5", SentenceEmbeddings(weight=2.0)),
        ("chars", TfidfVectorizer(preprocessor=fold, analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                  min_df=2)),
    ])
    pipeline = make_pipeline(features, LogisticRegression(C=4.0, max_iter=3000))
    pipeline.fit(texts, labels, logisticregression__sample_weight=weights)
    return pipeline


def _fingerprint() -> str:
    return data_fingerprint(f"{MODEL_VERSION}\x00{embedding_engine_id()}",
                            [p for folder in (ESCALATION_DIR, INTENTS_DIR) for p in sorted(folder.rglob("*.jsonl"))])


def model_file() -> str:
    """The trained model's file name (shipped in the package's artifacts, or kept in DATA_DIR)."""
    return f"escalation-model-{_fingerprint()}.joblib"


_MODEL = TrainedModel(model_file, lambda: train(*training_set(load_rows())))


def get_model():
    return _MODEL.get()


def probabilities(text: str, model=None) -> dict[str, float]:
    return class_probabilities(model or get_model(), text)


#: An escalated message this likely to report an injury or hazard is a safety case whatever else it asks for.
SAFETY_FIRST = 0.25


def judge(scores: dict[str, float], *, escalated: bool = False) -> str | None:
    """The reason among ``scores`` (``probabilities``), or None; ``escalated`` when another signal already escalates
    the message, so that only its reason is asked."""
    if not escalated and scores.get(NONE, 1.0) >= ESCALATE_BELOW:
        return None
    reasons = {label: p for label, p in scores.items() if label != NONE}
    if not reasons:
        return None
    if reasons.get("safety", 0.0) >= SAFETY_FIRST:
        return "safety"
    return max(reasons, key=reasons.__getitem__)


def reason(text: str, model=None) -> str | None:
    """Why a person should take ``text`` over (human_request, complaint, safety, technical_fault, bulk_business,
    legal_threat, frustration, refund_decision, damaged_item or abuse), or None for a message the desk answers."""
    return judge(probabilities(text, model)) if text.strip() else None


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if args[:1] == ["train"]:
        get_model()
        shipped = ship(model_file())
        print(f"escalation model ready: {shipped.relative_to(shipped.parent.parent)}")
        return 0
    if args[:1] == ["explain"] and len(args) == 2:
        print(json.dumps(probabilities(args[1]), indent=2))
        return 0
    print("usage: python -m core.agents.escalation_model train | explain TEXT", file=sys.stderr)
    return 2


if __name__ == "__main__":
    # Run through the package module: the cached model pickles SentenceEmbeddings by its module path.
    from core.agents.escalation_model import main as _main

    raise SystemExit(_main())
