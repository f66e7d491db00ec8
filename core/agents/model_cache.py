"""Trained models kept under .data by a fingerprint of what they were trained on: loaded when the file is there and
readable, otherwise trained and written (best effort: a read-only disk only costs a retraining next time)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger("shopdesk.models")


def load_or_train(cache: Path, train: Callable[[], Any]) -> Any:
    import joblib  # with scikit-learn, loaded only when a model is first needed

    if cache.exists():
        try:
            return joblib.load(cache)
        except Exception as exc:  # a stale or partial cache is rebuilt, never trusted
            log.warning("model cache %s unreadable (%s); retraining", cache.name, type(exc).__name__)
    model = train()
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(model, cache)
    except OSError:
        pass
    return model
