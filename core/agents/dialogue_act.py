"""What a message does in the order-action dialogue: asks the desk to act on an order ("request": "cancel my order",
"je veux retourner mes bottes"), asks how something works or what would happen if ("question": "how do I return an
item?", "si je retourne le ukulélé, pouvez-vous me rembourser?"), says yes to a proposed change ("confirm") or no to
it ("decline"), or anything else ("other": an order number given, an e-mail, "je retourne à Laval en avril", going
back somewhere, "yes but not the soap"); and, for a return, why the item goes back (defective, wrong item, too
small, too large, unwanted, or no reason given).

Two small classifiers on the intent agent's multilingual sentence embeddings (a phrasing in one language lands near its
translations) joined with accent-folded character n-grams (terse and misspelt messages), trained on the examples of
``knowledge/dialogue-acts/<language>.jsonl`` and ``knowledge/return-reasons/<language>.jsonl`` (each row: text,
label, lang, style). Shipped in the package's artifacts under a fingerprint of that data and of the embedding engine.

    python -m core.agents.dialogue_act eval     # accuracy per language and label, each style held out in turn
    python -m core.agents.dialogue_act classify "oui, allez-y"
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from core.agents import question_type
from core.agents.intent import embedding_engine_id
from core.agents.model_cache import TrainedModel, data_fingerprint, probability_row, ship
from core.config import REPO_ROOT

ACTS_DIR = REPO_ROOT / "knowledge" / "dialogue-acts"
REASONS_DIR = REPO_ROOT / "knowledge" / "return-reasons"
MODEL_VERSION = "dialogue-act-1"


def training_rows(folder: Path = ACTS_DIR) -> list[dict]:
    rows = []
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                if row.get("label") and row.get("text"):
                    rows.append(row)
    return rows


def train(rows: list[dict]):
    """The question type's classifier (sentence embeddings and accent-folded character n-grams, a balanced logistic
    regression) fitted on these rows."""
    return question_type.train(rows)


class _Reader:
    """One classifier over the labelled rows of a knowledge folder, named by a fingerprint of them."""

    def __init__(self, name: str, folder: Path):
        self.name, self.folder = name, folder
        self.model = TrainedModel(self.model_file, lambda: train(training_rows(self.folder)))

    def model_file(self) -> str:
        head = f"{MODEL_VERSION}\x00{embedding_engine_id()}"
        fingerprint = data_fingerprint(head, sorted(self.folder.glob("*.jsonl")))
        return f"{self.name}-model-{fingerprint}.joblib"

    def read(self, text: str) -> tuple[str, float]:
        labels = self.probabilities(text)
        best = max(labels, key=labels.get)
        return best, labels[best]

    def probabilities(self, text: str) -> dict[str, float]:
        model = self.model.get()
        return dict(zip((str(c) for c in model.classes_), (float(p) for p in probability_row(model, text)),
                        strict=True))


ACTS = _Reader("dialogue-act", ACTS_DIR)
REASONS = _Reader("return-reason", REASONS_DIR)


def model_file() -> str:
    """The dialogue-act model's file name (shipped in the package's artifacts, or kept in DATA_DIR)."""
    return ACTS.model_file()


def reason_model_file() -> str:
    """The return-reason model's file name."""
    return REASONS.model_file()


def classify(text: str) -> tuple[str, float]:
    """(act, probability): "request", "question", "confirm", "decline" or "other", the most probable of
    :func:`act_probabilities`."""
    acts = act_probabilities(text)
    best = max(acts, key=acts.get)
    return best, acts[best]


@lru_cache(maxsize=256)
def act_probabilities(text: str) -> dict[str, float]:
    """Each act's probability for the message (a long story asking for a return may be half "other"). A message is
    read by the model once per turn however many rules ask about it."""
    return ACTS.probabilities(text)


@lru_cache(maxsize=64)
def return_reason(text: str) -> tuple[str, float]:
    """(reason, probability): why an item goes back ("defective", "wrong_item", "size_too_small", "size_too_large",
    "unwanted"), or "none" for a message that gives no reason ("I want to return order 1038")."""
    return REASONS.read(text)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m core.agents.dialogue_act")
    parser.add_argument("command", choices=["train", "eval", "classify"])
    parser.add_argument("text", nargs="?")
    args = parser.parse_args(argv)
    if args.command == "train":
        for reader in (ACTS, REASONS):
            reader.model.get()
            shipped = ship(reader.model_file())
            print(f"{reader.name} model ready: {shipped.relative_to(shipped.parent.parent)}")
    elif args.command == "classify":
        print(classify(args.text or ""), return_reason(args.text or ""))
    else:
        for reader in (ACTS, REASONS):
            print(f"{reader.name}: accuracy per language and label, each style held out in turn")
            _evaluate(training_rows(reader.folder))
    return 0


def _evaluate(rows: list[dict]) -> None:
    """Each style (terse, misspelt, angry, long, non-native, plain) is held out in turn: the model is scored on the
    way of writing it never saw."""
    from collections import Counter

    right, total = Counter(), Counter()
    for style in sorted({r.get("style", "") for r in rows}):
        test = [r for r in rows if r.get("style", "") == style]
        model = train([r for r in rows if r.get("style", "") != style])
        for row, predicted in zip(test, model.predict([r["text"] for r in test]), strict=True):
            for key in (row["lang"], f"{row['lang']}/{row['label']}", f"style:{style}", "all"):
                total[key] += 1
                right[key] += predicted == row["label"]
    for key in sorted(total):
        print(f"{key:<20} {total[key]:>5} {right[key] / total[key]:.3f}")


if __name__ == "__main__":
    from core.agents.dialogue_act import main as _main

    raise SystemExit(_main())
