"""Question type of a customer message: greeting, thanks, goodbye, "are you a bot?", "what can you do?", off-topic, or
a question for the desk ("question"); and, for a question, the desk topics it asks about, part by part (the intent
model's reading of the whole message and of each of its sentences), so that a reply can tell "where is my order?"
from "can I return it?" asked about the same order.

A small classifier on the intent agent's multilingual sentence embeddings (so a phrasing in one language lands near
its translations) joined with accent-folded character n-grams (terse and misspelt messages), trained on the
examples in ``knowledge/question-types/<language>.txt`` (one ``## <type>`` section per type) and, as questions, the
labelled customer utterances of ``knowledge/intents`` (train split, every topic but ``general``, which holds the
greetings and thanks). Shipped in the package's artifacts under a fingerprint of that data and of the embedding engine.

    python -m core.agents.question_type eval     # cross-validated accuracy per type and language
"""

from __future__ import annotations

import random
import re
from pathlib import Path

from core import lexicon
from core.agents.intent import SentenceEmbeddings, embedding_engine_id
from core.agents.labelled_neighbours import nearest_sub_intents
from core.agents.model_cache import TrainedModel, data_fingerprint, probability_row, ship
from core.agents.opening_hours import asks_hours
from core.config import REPO_ROOT
from core.text import fold, tokens
from core.utterances import INTENTS_DIR, load_examples

TYPES_DIR = REPO_ROOT / "knowledge" / "question-types"
SMALL_TALK = ("greeting", "thanks", "goodbye", "bot", "capabilities", "off_topic")
MODEL_VERSION = "qtype-1"
# Desk questions drawn from the intent utterances, per language (the small-talk types have ~40-60 each).
QUESTIONS_PER_LANGUAGE = 240


def written_examples(folder: Path = TYPES_DIR) -> list[dict]:
    rows = []
    for path in sorted(folder.glob("*.txt")):
        label = None
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line.startswith("## "):
                label = line[3:].strip()
            elif line and label:
                rows.append({"text": line, "label": label, "lang": path.stem})
    return rows


def training_rows() -> list[dict]:
    rows = written_examples()
    by_language: dict[str, list[dict]] = {}
    for row in load_examples("train"):
        if row.get("label") != "general":
            by_language.setdefault(row.get("lang", ""), []).append(row)
    for language, utterances in sorted(by_language.items()):
        picked = random.Random(f"question-types-{language}").sample(
            utterances, min(QUESTIONS_PER_LANGUAGE, len(utterances)))
        rows += [{"text": r["text"], "label": "question", "lang": language} for r in picked]
    return rows


def _fingerprint() -> str:
    return data_fingerprint(f"{MODEL_VERSION}\x00{embedding_engine_id()}",
                            [*sorted(TYPES_DIR.glob("*.txt")), *sorted(INTENTS_DIR.rglob("*.jsonl"))])


def train(rows: list[dict]):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, make_pipeline

    features = FeatureUnion([
        ("e5", SentenceEmbeddings(weight=2.0)),
        ("chars", TfidfVectorizer(preprocessor=fold, analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)),
    ])
    pipeline = make_pipeline(features, LogisticRegression(C=5.0, max_iter=3000, class_weight="balanced"))
    pipeline.fit([r["text"] for r in rows], [r["label"] for r in rows])
    return pipeline


def model_file() -> str:
    """The trained model's file name (shipped in the package's artifacts, or kept in DATA_DIR)."""
    return f"question-type-model-{_fingerprint()}.joblib"


_MODEL = TrainedModel(model_file, lambda: train(training_rows()))


def _get_model():
    return _MODEL.get()


def classify(text: str) -> tuple[str, float]:
    """(type, probability): one of ``SMALL_TALK`` or "question"."""
    model = _get_model()
    probabilities = probability_row(model, text)
    best = int(probabilities.argmax())
    return str(model.classes_[best]), float(probabilities[best])


#: The money topics' utterances whose sub-intent says whether they ask about the customer's own payment, charge or
#: refund, or about how paying and refunds work (``core/agents/data/intent.json``).
_DATA = lexicon.load("intent")
_MONEY = _DATA["money_sub_intents"]
#: Neighbours read among those utterances.
MONEY_NEIGHBOURS = 7
#: The sub-intents of a question about when an order on its way arrives, and how many of a message's nearest
#: labelled utterances must have one of them.
_ORDER_TIME = _DATA["order_time_sub_intents"]


def asks_own_money(text: str) -> bool:
    """Whether a payment or refund question is about the customer's own money ("where is my refund?", "I was
    charged twice", "why only $20 back?") rather than how paying and refunds work ("do you take PayPal?", "how much
    tax for Montreal?"): most of its nearest labelled utterances, by meaning, say so."""
    if not text.strip():
        return False
    own = frozenset(_MONEY["own"])
    nearest = nearest_sub_intents(text, own | frozenset(_MONEY["how_it_works"]), MONEY_NEIGHBOURS)
    return sum(label in own for label in nearest) * 2 > len(nearest)


def asks_order_time(text: str) -> bool:
    """Whether a message about an order on its way asks when it arrives or why it has not yet ("it shipped on the
    12th and still isn't here, is it lost?", "¿cuándo me llega?") rather than where it is or whether it shipped
    ("where's my order?", "has it shipped?"), which its tracking answers: enough of its nearest labelled utterances,
    among the order and shipping utterances, ask so."""
    if not text.strip():
        return False
    asked = set(_ORDER_TIME["sub_intents"])
    nearest = nearest_sub_intents(text, frozenset(_ORDER_TIME["among"]), int(_ORDER_TIME["neighbours"]))
    return sum(label in asked for label in nearest) >= int(_ORDER_TIME["least"])


def small_talk(text: str, threshold: float = 0.5) -> str | None:
    """The small-talk type of a message that is only that (a greeting with a question is a question: one asking
    when the shop is open, "allo! êtes-vous ouverts aujourd'hui?", is always one)."""
    label, probability = classify(text)
    if label not in SMALL_TALK or probability < threshold:
        return None
    return None if asks_hours(text) else label


# A message's parts: its sentences, a question ending at its question mark.
_PART_END = re.compile(r"(?<=[?!.])\s+(?=\S)")
# A part shorter than this many words ("ok", "ugh.", an e-mail address) asks nothing of its own.
PART_MIN_WORDS = 3


def message_parts(text: str) -> list[str]:
    """The sentences of a message that have words of their own (none when the message is one sentence)."""
    parts = [p.strip() for p in _PART_END.split(text) if p.strip()]
    parts = [p for p in parts if len([t for t in tokens(p) if not t.isdigit()]) >= PART_MIN_WORDS]
    return parts if len(parts) > 1 else []


def asked_topics(text: str) -> list[tuple[str, str, float]]:
    """(text, topic, probability) for the whole message, then for each of its parts: the coarse intent the intent
    model reads in each ("hey is my stuff ready? can I come grab it tomorrow?": an order's status, then the shop's
    pickup hours)."""
    from core.agents.intent import embed_together, get_model

    model = get_model()
    out = []
    texts = [text, *message_parts(text)]
    if len(texts) > 1:
        embed_together(texts)
    for part in texts:
        probabilities = probability_row(model.pipeline, part)
        best = int(probabilities.argmax())
        out.append((part, str(model.labels[best]), float(probabilities[best])))
    return out


def main(argv: list[str] | None = None) -> int:
    import argparse
    from collections import Counter

    parser = argparse.ArgumentParser(prog="python -m core.agents.question_type")
    parser.add_argument("command", choices=["train", "eval", "classify"])
    parser.add_argument("text", nargs="?")
    args = parser.parse_args(argv)
    if args.command == "train":
        _get_model()
        shipped = ship(model_file())
        print(f"question-type model ready: {shipped.relative_to(shipped.parent.parent)}")
    elif args.command == "classify":
        print(classify(args.text or ""))
    else:
        rows = training_rows()
        random.Random(7).shuffle(rows)
        folds = 5
        right, total = Counter(), Counter()
        for k in range(folds):
            test = rows[k::folds]
            model = train([r for i, r in enumerate(rows) if i % folds != k])
            for row, predicted in zip(test, model.predict([r["text"] for r in test]), strict=True):
                for key in (row["label"], row["lang"], "all"):
                    total[key] += 1
                    right[key] += predicted == row["label"]
        for key in sorted(total):
            print(f"{key:<13} {total[key]:>5} {right[key] / total[key]:.3f}")
    return 0


if __name__ == "__main__":
    from core.agents.question_type import main as _main

    raise SystemExit(_main())
