"""Intent classifier eval: ``python -m tests.evals.intent`` (``make eval-intent``).

Prints macro-F1 and accuracy per language on the held-out ``test`` split of ``knowledge/intents`` (never trained
on), then on the blind set: utterances written by people who never saw the training or test rows.
"""

from __future__ import annotations

from core.agents.intent import get_model, load_examples
from core.config import REPO_ROOT

BLIND_DIR = REPO_ROOT / "knowledge" / "eval" / "intent-blind"


def evaluate(model=None, rows: list[dict] | None = None) -> dict[str, dict[str, float]]:
    """Macro-F1 and accuracy per language on the held-out ``test`` split, or on ``rows`` (for example the blind
    set, ``load_examples(folder=BLIND_DIR)``)."""
    from sklearn.metrics import accuracy_score, f1_score

    pipeline = model or get_model().pipeline
    rows = load_examples("test") if rows is None else rows
    predictions = list(pipeline.predict([r["text"] for r in rows]))  # type: ignore[attr-defined]
    report: dict[str, dict[str, float]] = {}
    for language in ["all", *sorted({r["lang"] for r in rows})]:
        pairs = [(r["label"], p) for r, p in zip(rows, predictions, strict=True)
                 if language == "all" or r["lang"] == language]
        gold, predicted = [g for g, _ in pairs], [p for _, p in pairs]
        report[language] = {"n": len(pairs), "macro_f1": round(f1_score(gold, predicted, average="macro"), 4),
                            "accuracy": round(accuracy_score(gold, predicted), 4)}
    return report


def main() -> int:
    sets: list[tuple[str, list[dict] | None]] = [("held-out test split", None)]
    if BLIND_DIR.is_dir():
        sets.append((f"blind set ({BLIND_DIR.relative_to(REPO_ROOT)})", load_examples(folder=BLIND_DIR)))
    for title, rows in sets:
        print(f"{title}\n{'language':<8} {'n':>5} {'macro-F1':>9} {'accuracy':>9}")
        for language, row in evaluate(rows=rows).items():
            print(f"{language:<8} {row['n']:>5} {row['macro_f1']:>9.3f} {row['accuracy']:>9.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
