"""The dialogue-act and return-reason models on messages written apart from their training data (another author, no
shared phrasing): ``python -m tests.evals.dialogue_acts``.

Prints accuracy per language and label for each model (``tests/evals/dialogue-acts/heldout.jsonl``: ``task`` "act"
or "reason"), then the style-held-out figures of the training data (``python -m core.agents.dialogue_act eval``)
when ``--styles`` is given.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from core.agents import dialogue_act

HELDOUT = Path(__file__).resolve().parent / "dialogue-acts" / "heldout.jsonl"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    rows = [json.loads(line) for line in HELDOUT.read_text(encoding="utf-8").splitlines() if line.strip()]
    readers = {"act": dialogue_act.classify, "reason": dialogue_act.return_reason}
    for task, read in readers.items():
        right, total = Counter(), Counter()
        for row in (r for r in rows if r["task"] == task):
            predicted = read(row["text"])[0]
            for key in (row["lang"], f"{row['lang']}/{row['label']}", "all"):
                total[key] += 1
                right[key] += predicted == row["label"]
            if predicted != row["label"]:
                print(f"  miss {task}: {row['text']!r} -> {predicted} (expected {row['label']})")
        print(f"{task}: held-out messages, accuracy per language and label")
        for key in sorted(total):
            print(f"  {key:<24} {total[key]:>4} {right[key] / total[key]:.3f}")
    if "--styles" in argv:
        dialogue_act.main(["eval"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
