"""Each PII detector alone and combined: leak and precision per language and entity type.

``python -m tests.evals.pii_detectors`` (part of ``make eval-pii``) scores, on the project's labelled messages (main
set and both held-out batches) and on the learned detector's synthetic check set (``knowledge/pii/ner-dev.jsonl``:
message shapes and Faker seeds the model was not trained on), the format patterns, the rule-based names and
addresses, the customer's known entities, the learned name / address model, the rules together, and everything
together (what ``detect`` runs). Leak counts the characters of the gold spans of one type no detected span covers;
precision is the share of detected spans that touch any PII.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

from core.config import REPO_ROOT
from core.pii.addresses import find_street_lines
from core.pii.detect import detect
from core.pii.names import find_names
from core.pii.ner import find_learned
from core.pii.patterns import find_patterns
from core.pii.spans import Span, merge_spans
from tests.evals.pii import Tally, score
from tests.evals.pii_dataset import HOLDOUT, HOLDOUT2, LANGUAGES, load, load_customers

DEV_FILE = REPO_ROOT / "knowledge" / "pii" / "ner-dev.jsonl"


def _rules(text, lang, known):
    spans = find_patterns(text, lang) + list(find_street_lines(text, lang)) + list(find_names(text, lang))
    if known:
        spans += known.find(text)
    return merge_spans(spans, text)


DETECTORS: dict[str, Callable] = {
    "patterns": lambda text, lang, known: find_patterns(text, lang),
    "rule-names": lambda text, lang, known: list(find_names(text, lang)),
    "rule-addr": lambda text, lang, known: list(find_street_lines(text, lang)),
    "known": lambda text, lang, known: known.find(text) if known else [],
    "learned": lambda text, lang, known: find_learned(text, lang),
    "rules": _rules,
    "combined": lambda text, lang, known: detect(text, lang, known),
}


def synthetic(lang: str) -> list[dict]:
    out = []
    with DEV_FILE.open(encoding="utf-8") as handle:
        for n, line in enumerate(handle):
            row = json.loads(line)
            if row["lang"] == lang:
                out.append({"id": f"dev-{n}", "text": row["text"], "lang": lang, "spans": [
                    {"start": s, "end": e, "label": label, "known": False} for s, e, label in row["spans"]]})
    return out


def _cell(tally: Tally, label: str) -> str:
    leaked, chars = tally.leak_by.get(label, [0, 0])
    return f"{100 * leaked / chars:5.1f}%" if chars else "    - "


def _keeping(detector: Callable, only: set[str] | None) -> Callable:
    return lambda t, lg, k: [Span(*s[:3]) for s in detector(t, lg, k) if only is None or s[2] in only]


def table(title: str, records_of: Callable[[str], list[dict]], customers: dict, only: set[str] | None = None) -> None:
    """``only``: the labels the set marks (the others are left out of the predictions, not counted as errors)."""
    print(f"\n{title}: leak % of PII characters (PERSON, ADDRESS, all) and span precision, per language")
    print(f"  {'detector':11} " + "  ".join(f"{lang + ' PER':>9} {'ADDR':>6} {'all':>6} {'prec':>6}"
                                            for lang in (*LANGUAGES, "overall")))
    data = {lang: records_of(lang) for lang in LANGUAGES}
    for name, detector in DETECTORS.items():
        cells = []
        overall = Tally()
        for lang in LANGUAGES:
            tally = score(data[lang], _keeping(detector, only), customers, round_trip=False)
            overall.add(tally)
            cells.append(f"{_cell(tally, 'PERSON'):>9} {_cell(tally, 'ADDRESS'):>6} {100 * tally.leak:5.1f}% "
                         f"{100 * tally.precision:5.1f}%")
        cells.append(f"{_cell(overall, 'PERSON'):>9} {_cell(overall, 'ADDRESS'):>6} {100 * overall.leak:5.1f}% "
                     f"{100 * overall.precision:5.1f}%")
        print(f"  {name:11} " + "  ".join(cells))


def main() -> int:
    customers = load_customers()
    detect("warm-up: Marie Tremblay, 2217 rue Beaubien Est", "fr")
    table("project set (main)", lambda lang: load(lang), customers)
    table("project held-out batches", lambda lang: load(lang, HOLDOUT) + load(lang, HOLDOUT2), customers)
    table("synthetic check set (shapes and seeds never trained on; names and addresses only)", synthetic, customers,
          only={"PERSON", "ADDRESS"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
