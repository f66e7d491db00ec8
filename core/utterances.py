"""The project's labelled customer utterances (``knowledge/intents/**/*.jsonl``): the training and held-out rows of
the intent and language classifiers, and the blind evaluation set (``knowledge/eval/intent-blind``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from core.config import REPO_ROOT
from core.text import fold

INTENTS_DIR = REPO_ROOT / "knowledge" / "intents"
# Utterances written later by people who never saw the training or test rows: never trained on, only measured.
BLIND_DIR = REPO_ROOT / "knowledge" / "eval" / "intent-blind"
NEAR_DUPLICATE_JACCARD = 0.6


def _normalised(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", fold(text)))


def _near_held_out(row: dict, held_out: dict[str, list[set[str]]]) -> bool:
    words = set(_normalised(row["text"]).split())
    for other in held_out.get(row.get("lang", ""), []):
        union = len(words | other)
        if union and len(words & other) / union >= NEAR_DUPLICATE_JACCARD:
            return True
    return False


def load_examples(split: str | None = None, folder: Path = INTENTS_DIR) -> list[dict]:
    """Labelled utterances. Training rows that are the same as, or a near-paraphrase of (word Jaccard ≥ 0.6), a
    held-out test row of their language are dropped, so the held-out figures never score a sentence the model was
    trained on in other words."""
    rows = []
    for path in sorted(folder.rglob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append(json.loads(line))
    if split == "train":
        held_out: dict[str, list[set[str]]] = {}
        for r in rows:
            if r.get("split") == "test":
                held_out.setdefault(r.get("lang", ""), []).append(set(_normalised(r["text"]).split()))
        return [r for r in rows if r.get("split") == "train" and not _near_held_out(r, held_out)]
    return [r for r in rows if split is None or r.get("split") == split]
