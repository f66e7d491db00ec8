"""``python -m core.pii.ner_train`` (run by ``make setup``): trains the learned name / address detector when its
cached model (``.data/pii-ner-<fingerprint>.crfsuite``) is missing."""

from __future__ import annotations

import sys
import time

from .ner import load_records, model_path, train


def main() -> int:
    path = model_path()
    if path.exists():
        print(f"PII name/address model {path.name} up to date")
        return 0
    started = time.perf_counter()
    train(load_records(), path)
    print(f"PII name/address model {path.name} trained in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
