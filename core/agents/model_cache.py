"""Trained models found by file name (a fingerprint of what they were trained on): first in the app's ``artifacts``
folder (built by ``make setup`` / ``make package`` and shipped inside the app package, read only at run time), then
in ``DATA_DIR``; otherwise trained and written to ``DATA_DIR`` (best effort: a read-only disk only costs a
retraining next time). Every load and training is logged with where the model came from."""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from core.config import REPO_ROOT

log = logging.getLogger("shopdesk.models")

#: The folder of trained models shipped inside the app package (next to function_app.py).
ARTIFACTS_DIR = REPO_ROOT / "core" / "artifacts"


def data_dir() -> Path:
    from core.config import get_settings

    return get_settings().DATA_DIR


def find(name: str) -> Path | None:
    """The shipped artifact named ``name``, else the one kept in DATA_DIR, else None."""
    for folder in (ARTIFACTS_DIR, data_dir()):
        if (folder / name).is_file():
            return folder / name
    return None


def load_or_train(name: str, train: Callable[[], Any]) -> Any:
    import joblib  # with scikit-learn, loaded only when a model is first needed

    for folder in (ARTIFACTS_DIR, data_dir()):
        path = folder / name
        if path.is_file():
            try:
                model = joblib.load(path)
            except Exception as exc:  # a stale or partial file is skipped, never trusted
                log.warning("model %s in %s unreadable (%s)", name, folder, type(exc).__name__)
                continue
            log.info("model %s loaded from %s", name, "the package" if folder == ARTIFACTS_DIR else "DATA_DIR")
            return model
    log.warning("model %s is neither in the package nor in DATA_DIR: training it (make package ships it)", name)
    model = train()
    try:
        cache = data_dir() / name
        cache.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(model, cache)
    except OSError:
        pass
    return model


def ship(name: str) -> Path:
    """Put the model named ``name`` (loaded or trained in this process by now) into the artifacts folder, and remove
    the folder's older versions of it (same name before the fingerprint), so the package carries only this one."""
    found = find(name)
    if found is None:
        raise FileNotFoundError(f"model {name} was neither loaded from nor written to DATA_DIR")
    target = ARTIFACTS_DIR / name
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    if found != target:
        shutil.copyfile(found, target.with_suffix(".partial"))
        target.with_suffix(".partial").replace(target)
    prefix = name.rsplit("-", 1)[0] + "-"
    for older in ARTIFACTS_DIR.glob(prefix + "*"):
        if older != target:
            older.unlink()
    return target


def data_fingerprint(head: str, files: Iterable[Path]) -> str:
    """16 hex digits naming a model by what it was trained on: ``head`` (model version, embedding engine) and the
    bytes of its training ``files``, in the order given."""
    digest = hashlib.sha256(head.encode())
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def class_probabilities(pipeline: Any, text: str) -> dict[str, float]:
    """A fitted classifier's probability per class for one text, without sklearn's per-call input checks."""
    from sklearn import config_context

    with config_context(assume_finite=True, skip_parameter_validation=True):
        row = pipeline.predict_proba([text])[0]
    return {label: float(p) for label, p in zip(pipeline.classes_, row, strict=True)}

