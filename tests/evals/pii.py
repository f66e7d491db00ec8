"""PII detection eval on the project's labelled messages (``knowledge/eval/pii/{en,fr-CA,es}.jsonl``).

``python -m tests.evals.pii`` (``make eval-pii``) prints, per language and overall: character leak rate (share of
PII characters no detected span covers), leak on the customer's known entities, span precision (detected spans that
touch PII), per-category recall (gold spans fully covered) / precision / label agreement, the round trip (tokenize
then restore gives back every message), and detection time. ``--check`` exits non-zero when a "done when" threshold
is missed; ``--show-misses`` lists what leaked. Presidio is compared on the same text when it is installed (it is
optional).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from core.pii.detect import detect
from core.pii.known import KnownEntities
from core.pii.spans import Span
from core.pii.tokens import TokenMap
from tests.evals.pii_dataset import HOLDOUT, HOLDOUT2, LANGUAGES, load, load_customers

LEAK_MAX = 0.05
KNOWN_LEAK_MAX = 0.0
PRECISION_MIN = 0.85


@dataclass
class Tally:
    gold_chars: int = 0
    leaked_chars: int = 0
    known_chars: int = 0
    known_leaked: int = 0
    predicted: int = 0
    predicted_hits: int = 0
    predicted_chars: int = 0
    predicted_pii_chars: int = 0
    round_trip_ok: int = 0
    messages: int = 0
    ms: list[float] = field(default_factory=list)
    gold_by: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    found_by: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    label_ok_by: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    leak_by: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    pred_by: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    pred_hit_by: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    misses: list[str] = field(default_factory=list)
    false_positives: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in ("gold_chars", "leaked_chars", "known_chars", "known_leaked", "predicted", "predicted_hits",
                     "predicted_chars", "predicted_pii_chars", "round_trip_ok", "messages"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.ms.extend(other.ms)
        self.misses.extend(other.misses)
        self.false_positives.extend(other.false_positives)
        for mine, theirs in ((self.gold_by, other.gold_by), (self.found_by, other.found_by),
                             (self.label_ok_by, other.label_ok_by), (self.pred_by, other.pred_by),
                             (self.pred_hit_by, other.pred_hit_by)):
            for key, value in theirs.items():
                mine[key] += value
        for key, (a, b) in other.leak_by.items():
            self.leak_by[key][0] += a
            self.leak_by[key][1] += b

    @property
    def leak(self) -> float:
        return self.leaked_chars / self.gold_chars if self.gold_chars else 0.0

    @property
    def known_leak(self) -> float:
        return self.known_leaked / self.known_chars if self.known_chars else 0.0

    @property
    def precision(self) -> float:
        return self.predicted_hits / self.predicted if self.predicted else 1.0

    @property
    def char_precision(self) -> float:
        return self.predicted_pii_chars / self.predicted_chars if self.predicted_chars else 1.0


def known_for(record: dict, customers: dict[str, dict]) -> KnownEntities | None:
    key = record.get("customer")
    if not key:
        return None
    customer = customers[key]
    return KnownEntities.from_shopify(customer, customer.get("orders", []))


def score(records: list[dict], detector: Callable[[str, str, KnownEntities | None], list],
          customers: dict[str, dict], round_trip: bool = True) -> Tally:
    tally = Tally()
    for record in records:
        text, lang = record["text"], record["lang"]
        known = known_for(record, customers)
        started = time.perf_counter()
        predicted = [Span(*s[:3]) for s in detector(text, lang, known)]
        tally.ms.append((time.perf_counter() - started) * 1000)
        tally.messages += 1
        covered = [False] * len(text)
        for span in predicted:
            for i in range(span.start, span.end):
                covered[i] = True
        gold_mask = [False] * len(text)
        for gold in record["spans"]:
            label = gold["label"]
            chars = [i for i in range(gold["start"], gold["end"]) if not text[i].isspace()]
            leaked = [i for i in chars if not covered[i]]
            for i in range(gold["start"], gold["end"]):
                gold_mask[i] = True
            tally.gold_chars += len(chars)
            tally.leaked_chars += len(leaked)
            tally.leak_by[label][0] += len(leaked)
            tally.leak_by[label][1] += len(chars)
            if gold["known"]:
                tally.known_chars += len(chars)
                tally.known_leaked += len(leaked)
            tally.gold_by[label] += 1
            if not leaked:
                tally.found_by[label] += 1
                if any(p.label == label and p.start < gold["end"] and gold["start"] < p.end for p in predicted):
                    tally.label_ok_by[label] += 1
            else:
                tally.misses.append(f"{record['id']} {label}{'*' if gold['known'] else ''}: "
                                    f"{text[gold['start']:gold['end']]!r} leaked "
                                    f"{''.join(text[i] for i in leaked)!r}")
        for span in predicted:
            hit = any(gold_mask[span.start:span.end])
            tally.predicted += 1
            tally.predicted_hits += hit
            tally.pred_by[span.label] += 1
            tally.pred_hit_by[span.label] += hit
            tally.predicted_chars += span.end - span.start
            tally.predicted_pii_chars += sum(gold_mask[span.start:span.end])
            if not hit:
                tally.false_positives.append(f"{record['id']} {span.label}: {text[span.start:span.end]!r}")
        if round_trip:
            mapping = TokenMap("eval", record["id"])
            tokenized = mapping.tokenize(text, predicted)
            restored, report = mapping.restore(tokenized)
            tally.round_trip_ok += int(restored == text and not report.foreign)
    return tally


def _pct(x: float) -> str:
    return f"{100 * x:5.1f}%"


def report(name: str, tally: Tally, *, per_category: bool) -> None:
    p50 = statistics.median(tally.ms) if tally.ms else 0.0
    p95 = sorted(tally.ms)[int(0.95 * (len(tally.ms) - 1))] if tally.ms else 0.0
    print(f"{name:8} messages {tally.messages:4}  leak {_pct(tally.leak)}  known-entity leak {_pct(tally.known_leak)}"
          f"  precision {_pct(tally.precision)} (chars {_pct(tally.char_precision)})  round trip "
          f"{tally.round_trip_ok}/{tally.messages}  detect p50 {p50:.2f} ms p95 {p95:.2f} ms")
    if not per_category:
        return
    print(f"  {'category':16} {'gold':>5} {'recall':>7} {'leak':>7} {'label ok':>9} {'pred':>5} {'precision':>9}")
    labels = sorted(set(tally.gold_by) | set(tally.pred_by))
    for label in labels:
        gold = tally.gold_by.get(label, 0)
        leaked, chars = tally.leak_by.get(label, [0, 0])
        pred = tally.pred_by.get(label, 0)
        recall = tally.found_by.get(label, 0) / gold if gold else float("nan")
        label_ok = tally.label_ok_by.get(label, 0) / tally.found_by[label] if tally.found_by.get(label) else None
        precision = tally.pred_hit_by.get(label, 0) / pred if pred else float("nan")
        label_text = _pct(label_ok) if label_ok is not None else "    -  "
        print(f"  {label:16} {gold:5} {_pct(recall) if gold else '    -  ':>7} "
              f"{_pct(leaked / chars) if chars else '    -  ':>7} {label_text:>9} "
              f"{pred:5} {_pct(precision) if pred else '    -  ':>9}")


def presidio_detector() -> Callable[[str, str, KnownEntities | None], list] | None:
    """Presidio's pattern recognizers (no spaCy model can be downloaded here), if presidio-analyzer is installed."""
    try:
        from presidio_analyzer import AnalyzerEngine  # type: ignore[import-not-found]
        from presidio_analyzer.nlp_engine import NlpEngineProvider  # type: ignore[import-not-found]
    except ImportError:
        return None
    try:
        provider = NlpEngineProvider(nlp_configuration={"nlp_engine_name": "spacy", "models": [
            {"lang_code": "en", "model_name": "en_core_web_sm"}]})
        engine = AnalyzerEngine(nlp_engine=provider.create_engine())
    except Exception:
        return None

    def run(text: str, lang: str, known: KnownEntities | None) -> list:
        return [(r.start, r.end, r.entity_type) for r in engine.analyze(text=text, language="en")]

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.evals.pii", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a threshold is missed")
    parser.add_argument("--show-misses", action="store_true", help="list leaked spans and false positives")
    parser.add_argument("--json", action="store_true", help="print the overall figures as JSON too")
    parser.add_argument("--spans-from", metavar="JSONL", help="also score another tool's spans: one {id, spans: "
                        "[[start, end, label], ...]} per line (e.g. Presidio run in its own environment)")
    args = parser.parse_args(argv)

    customers = load_customers()
    detector = lambda text, lang, known: detect(text, lang, known)  # noqa: E731
    detect("warm-up: Marie Tremblay, 514-555-0199, 2217 rue Beaubien Est", "fr")
    overall = Tally()
    for lang in LANGUAGES:
        tally = score(load(lang), detector, customers)
        report(lang, tally, per_category=False)
        overall.add(tally)
        if args.show_misses:
            for line in tally.misses:
                print("   miss", line)
            for line in tally.false_positives:
                print("   false+", line)
    report("overall", overall, per_category=True)

    for name, prefix in (("held-out", HOLDOUT), ("held-out2", HOLDOUT2)):
        holdout = Tally()
        for lang in LANGUAGES:
            holdout.add(score(load(lang, prefix), detector, customers))
        report(name, holdout, per_category=False)
        if args.show_misses:
            for line in holdout.misses:
                print("   miss", line)
            for line in holdout.false_positives:
                print("   false+", line)

    if args.spans_from:
        external: dict[str, list] = {}
        with open(args.spans_from, encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                external[row["id"]] = row["spans"]
        by_text = {r["text"]: external.get(r["id"], []) for p in ("", HOLDOUT, HOLDOUT2) for lang in LANGUAGES
                   for r in load(lang, p)}
        for name, prefixes in (("external", ("",)), ("ext-held", (HOLDOUT, HOLDOUT2))):
            compared = Tally()
            for prefix in prefixes:
                for lang in LANGUAGES:
                    compared.add(score(load(lang, prefix), lambda text, lang, known: by_text[text], customers,
                                       round_trip=False))
            report(name, compared, per_category=name == "external")

    presidio = presidio_detector()
    if presidio is None:
        print("presidio: not installed here (optional; see tests/bench/pii_presidio.py and --spans-from; the README's "
              "PII protection section gives its figures)")
    else:
        compared = Tally()
        for lang in LANGUAGES:
            compared.add(score(load(lang), presidio, customers, round_trip=False))
        report("presidio", compared, per_category=False)

    if args.json:
        print(json.dumps({"leak": overall.leak, "known_leak": overall.known_leak, "precision": overall.precision,
                          "round_trip": overall.round_trip_ok, "messages": overall.messages}))
    failures = []
    if overall.leak > LEAK_MAX:
        failures.append(f"leak {_pct(overall.leak)} > {_pct(LEAK_MAX)}")
    if overall.known_leak > KNOWN_LEAK_MAX:
        failures.append(f"known-entity leak {_pct(overall.known_leak)} > 0")
    if overall.precision < PRECISION_MIN:
        failures.append(f"precision {_pct(overall.precision)} < {_pct(PRECISION_MIN)}")
    if overall.round_trip_ok != overall.messages:
        failures.append("round trip lost text")
    print("thresholds:", "all met" if not failures else "; ".join(failures))
    return 1 if (args.check and failures) else 0


if __name__ == "__main__":
    re.purge()
    sys.exit(main())
