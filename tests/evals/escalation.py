"""Escalation on messages the model was not trained on: ``python -m tests.evals.escalation [FOLDER ...]``
(``make eval-escalation``).

The escalation data (knowledge/escalation) holds the project's own messages (``project-*``, always trained on) and
each independent author's (``<author>-<lang>.jsonl``). Each author's set is scored by a model trained without it,
and without any training message that is a near-paraphrase (word Jaccard ≥ 0.6) of one of its messages. A FOLDER
given on the command line (``en.jsonl``, ``fr-CA.jsonl``, ``es.jsonl``) is a set from outside, scored the same way
by a model trained on everything in knowledge/escalation. Printed per language: precision and recall of the
learned model alone, and of the escalation decision as a turn runs it (the input screen, the intent classifier's
signals and the default refund limit; first turn, no order looked up).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from core.agents import critic, escalation, escalation_model, intent
from core.text import fold

LANGUAGES = ("en", "fr-CA", "es")
ALWAYS_TRAINED = "project"
NEAR_DUPLICATE_JACCARD = 0.6
REFUND_LIMIT = 50.0
#: Bars on the "none" probability shown for the learned model (the product escalates below
#: ``escalation_model.ESCALATE_BELOW``): a higher bar escalates more messages, ordinary ones included.
SWEEP = (0.5, 0.6, 0.7, 0.8, 0.9)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", fold(text)))


def near_duplicate(text: str, held_out: list[set[str]]) -> bool:
    words = _words(text)
    return any(len(words & other) / max(len(words | other), 1) >= NEAR_DUPLICATE_JACCARD for other in held_out)


def precision_recall(rows: list[dict], predicted: list[bool], lang: str) -> str:
    pairs = [(r["escalate"], p) for r, p in zip(rows, predicted, strict=True) if lang == "all" or r["lang"] == lang]
    tp = sum(1 for truth, p in pairs if truth and p)
    fp = sum(1 for truth, p in pairs if p and not truth)
    fn = sum(1 for truth, p in pairs if truth and not p)
    return (f"precision {tp / max(tp + fp, 1):.3f}  recall {tp / max(tp + fn, 1):.3f}  "
            f"(escalated {tp}/{tp + fn}, ordinary escalated {fp}/{len(pairs) - tp - fn})")


def author_of(path: Path) -> str:
    """``w1-fr-CA.jsonl`` → ``w1``."""
    return next(path.name[: -len(f"-{lang}.jsonl")] for lang in LANGUAGES if path.name.endswith(f"-{lang}.jsonl"))


def as_run(row: dict, model) -> bool:
    lang = row["lang"][:2]
    verdict = critic.screen_message(row["text"], locale_language=lang, fallback_language="en", max_bytes=8000)
    result = intent.classify(row["text"], lang)
    return escalation.decide(result, verdict, unanswered_turns=0, message=row["text"], orders=[],
                             refund_limit=REFUND_LIMIT, model=model) is not None


def score(name: str, held_out: list[dict], trained_on: list[dict]) -> None:
    seen = [_words(r["text"]) for r in held_out]
    trained_on = [r for r in trained_on if not near_duplicate(r["text"], seen)]
    extra = [(text, reason) for text, reason in escalation_model.intent_rows() if not near_duplicate(text, seen)]
    model = escalation_model.train(*escalation_model.training_set(trained_on, extra))
    scores = [escalation_model.probabilities(r["text"], model) for r in held_out]
    learned = [escalation_model.judge(s) is not None for s in scores]
    run = [as_run(r, model) for r in held_out]
    print(f"{name} ({len(held_out)} messages; model trained without them on {len(trained_on)} escalation rows "
          f"and {len(extra)} intent utterances)")
    for lang in (*LANGUAGES, "all"):
        print(f"  {lang:<6} learned model   {precision_recall(held_out, learned, lang)}")
        print(f"  {lang:<6} as a turn runs  {precision_recall(held_out, run, lang)}")
    for bar in SWEEP:
        print(f"  all    escalated below {bar:.2f}  "
              f"{precision_recall(held_out, [s[escalation_model.NONE] < bar for s in scores], 'all')}")
    missed = [(r["lang"], r["reason"], r["style"], r["text"][:90]) for r, p in zip(held_out, run, strict=True)
              if p != r["escalate"]]
    for lang, reason, style, text in missed:
        print(f"    wrong: {lang:<5} {reason:<16} {style:<10} {text!r}")


def main(argv: list[str] | None = None) -> int:
    folders = [Path(a) for a in (argv if argv is not None else sys.argv[1:])]
    rows = escalation_model.load_rows()
    authors = sorted({author_of(p) for p in escalation_model.ESCALATION_DIR.glob("*.jsonl")})
    by_author = {a: escalation_model.load_rows(pattern=f"{a}-*.jsonl") for a in authors}
    for author in authors:
        if author == ALWAYS_TRAINED:
            continue
        score(f"held-out author {author}", by_author[author],
              [r for a, rs in by_author.items() if a != author for r in rs])
    for folder in folders:
        held_out = escalation_model.load_rows(folder)
        score(f"outside set {folder}", held_out, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
