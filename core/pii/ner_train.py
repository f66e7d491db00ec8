"""``python -m core.pii.ner_train`` (run by ``make setup``): trains the learned name / address detector into the
app's artifacts when the model for the current training data (``pii-ner-<fingerprint>.crfsuite``) is not there."""

from __future__ import annotations

import sys
import time

from core.agents.model_cache import ARTIFACTS_DIR

from .ner import load_records, model_file, train


def main() -> int:
    path = ARTIFACTS_DIR / model_file()
    if path.exists():
        print(f"PII name/address model {path.name} up to date")
        return 0
    started = time.perf_counter()
    train(load_records(), path)
    for older in ARTIFACTS_DIR.glob("pii-ner-*.crfsuite"):
        if older != path:
            older.unlink()
    print(f"PII name/address model {path.name} trained in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
