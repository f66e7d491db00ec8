"""The PII eval set: messages written with inline markup, turned into exact character offsets and validated.

Source ``knowledge/eval/pii/src/<lang>.txt``: one message per line, ``\\n`` for a line break, ``[LABEL:text]`` around
PII and ``[LABEL*:text]`` around the conversation customer's own data (profile chosen by a leading ``@key`` from
``customers.json``). ``python -m tests.evals.pii_dataset`` writes ``<lang>.jsonl`` and fails on any markup error.
"""

from __future__ import annotations

import json
import re
import sys

from core.config import REPO_ROOT
from core.pii.checksums import iban_ok, luhn_ok
from core.pii.normalize import compact, digits, fold
from core.pii.spans import Label

EVAL_DIR = REPO_ROOT / "knowledge" / "eval" / "pii"
LANGUAGES = ("en", "fr-CA", "es")
HOLDOUT = "holdout-"  # held-out messages written after the rules were frozen (see README for how each was used)
HOLDOUT2 = "holdout2-"
_MARK = re.compile(r"\[([A-Z_]+)(\*?):([^\[\]]+)\]")


class MarkupError(ValueError):
    pass


def load_customers() -> dict[str, dict]:
    data = json.loads((EVAL_DIR / "customers.json").read_text(encoding="utf-8"))
    return {c["key"]: c for c in data["customers"]}


def _profile_strings(customer: dict) -> list[str]:
    out: list[str] = []

    def walk(value):
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif value is not None:
            out.append(str(value))

    walk(customer)
    return out


def _relates_to_profile(value: str, profile: list[str]) -> bool:
    """A loose check that a span marked as the customer's own really comes from the profile: it shares a word of
    four letters or more, or its last digits, with some profile value."""
    words = set(re.findall(r"[a-z]{4,}", fold(value)))
    number = digits(value)
    for item in profile:
        if words & set(re.findall(r"[a-z]{4,}", fold(item))):
            return True
        if len(number) >= 4 and number[-7:] in digits(item):
            return True
        if compact(value) and compact(value) == compact(item):
            return True
    return False


def parse_line(line: str, customers: dict[str, dict]) -> dict:
    customer_key = None
    if line.startswith("@"):
        customer_key, line = line[1:].split(" ", 1)
        if customer_key not in customers:
            raise MarkupError(f"unknown customer {customer_key!r}")
    line = line.replace("\\n", "\n")
    text, spans, last = [], [], 0
    pos = 0
    for m in _MARK.finditer(line):
        text.append(line[last:m.start()])
        pos += m.start() - last
        label, star, value = m.group(1), m.group(2), m.group(3)
        if label not in Label.__members__ or label == "ID_NUMBER":
            raise MarkupError(f"unknown label {label!r}")
        if value != value.strip():
            raise MarkupError(f"span {value!r} has surrounding spaces")
        if star and not customer_key:
            raise MarkupError(f"known span {value!r} without a customer")
        if star and not _relates_to_profile(value, _profile_strings(customers[customer_key])):
            raise MarkupError(f"known span {value!r} is not in customer {customer_key}'s profile")
        if label == "CARD" and not luhn_ok(value):
            raise MarkupError(f"card {value!r} fails Luhn")
        if label == "IBAN" and not iban_ok(value):
            raise MarkupError(f"IBAN {value!r} fails its checksum")
        spans.append({"start": pos, "end": pos + len(value), "label": label, "known": bool(star)})
        text.append(value)
        pos += len(value)
        last = m.end()
    text.append(line[last:])
    full = "".join(text)
    if "[" in full or "]" in full:
        raise MarkupError("unbalanced or malformed markup")
    for span in spans:
        assert full[span["start"]:span["end"]] and not full[span["start"]].isspace()
    return {"text": full, "spans": spans, "customer": customer_key}


def build(lang: str, prefix: str = "") -> list[dict]:
    customers = load_customers()
    records = []
    source = EVAL_DIR / "src" / f"{prefix}{lang}.txt"
    for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        try:
            record = parse_line(line, customers)
        except MarkupError as exc:
            raise MarkupError(f"{source.name}:{number}: {exc}") from None
        records.append({"id": f"{prefix}{lang}-{len(records) + 1:03d}", "lang": lang, **record})
    return records


def load(lang: str, prefix: str = "") -> list[dict]:
    path = EVAL_DIR / f"{prefix}{lang}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> int:
    for prefix, lang in [(p, lang) for p in ("", HOLDOUT, HOLDOUT2) for lang in LANGUAGES]:
        try:
            records = build(lang, prefix)
        except MarkupError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        with (EVAL_DIR / f"{prefix}{lang}.jsonl").open("w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        labels: dict[str, int] = {}
        for record in records:
            for span in record["spans"]:
                labels[span["label"]] = labels.get(span["label"], 0) + 1
        print(f"{prefix}{lang}: {len(records)} messages, {sum(labels.values())} spans "
              f"({sum(s['known'] for r in records for s in r['spans'])} known) {dict(sorted(labels.items()))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
