"""Presidio on the PII eval set, for ``python -m tests.evals.pii --spans-from``. Runs in Presidio's own environment
(it is not a project dependency), with its pattern recognizers on a blank English pipeline: no spaCy NER model, as
none ships in a package the project can install.

    python3.11 -m venv /tmp/presidio && /tmp/presidio/bin/pip install presidio-analyzer==2.2.366
    /tmp/presidio/bin/python tests/bench/pii_presidio.py /tmp/presidio-spans.jsonl
    .venv/bin/python -m tests.evals.pii --spans-from /tmp/presidio-spans.jsonl
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import spacy
from presidio_analyzer import AnalyzerEngine
from presidio_analyzer.nlp_engine import NlpEngineProvider

EVAL_DIR = Path(__file__).resolve().parents[2] / "knowledge" / "eval" / "pii"


def main(out_path: str) -> int:
    with tempfile.TemporaryDirectory() as folder:
        spacy.blank("en").to_disk(folder)
        provider = NlpEngineProvider(nlp_configuration={"nlp_engine_name": "spacy",
                                                        "models": [{"lang_code": "en", "model_name": folder}]})
        engine = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
        with open(out_path, "w", encoding="utf-8") as out:
            for path in sorted(EVAL_DIR.glob("*.jsonl")):
                for line in path.read_text(encoding="utf-8").splitlines():
                    record = json.loads(line)
                    found = engine.analyze(text=record["text"], language="en")
                    out.write(json.dumps({"id": record["id"],
                                          "spans": [[r.start, r.end, r.entity_type] for r in found]}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
