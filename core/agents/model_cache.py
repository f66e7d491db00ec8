"""Trained models found by file name (a fingerprint of what they were trained on): first in the app's ``artifacts``
folder (built by ``make setup`` / ``make package`` and shipped inside the app package, read only at run time), then
in ``DATA_DIR``; otherwise trained and written to ``DATA_DIR`` (best effort: a read-only disk only costs a
retraining next time). Every load and training is logged with where the model came from."""

from __future__ import annotations

import hashlib
import logging
import shutil
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from itertools import repeat
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


class TrainedModel:
    """A model loaded (or trained) once per process, on first use: ``load_or_train(file_name(), train)``, with
    concurrent first callers waiting for the one load."""

    def __init__(self, file_name: Callable[[], str], train: Callable[[], Any]):
        self._file_name, self._train = file_name, train
        self._model: Any = None
        self._lock = threading.Lock()

    def get(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = load_or_train(self._file_name(), self._train)
        return self._model


def probability_row(pipeline: Any, text: str) -> Any:
    """A fitted classifier's class probabilities for one text (ordered as ``pipeline.classes_``).

    Every model of the desk is a ``FeatureUnion`` of feature extractors followed by a ``LogisticRegression``; for
    those, each extractor's features are dotted with its slice of the regression's weights directly (the same
    arithmetic as sklearn's ``predict_proba``): for one text, sklearn's union (its parallel-jobs machinery, the
    sparse stacking) and its per-call checks cost several times the features themselves. Any other pipeline goes
    through ``predict_proba``."""
    plan = _plans.get(id(pipeline))
    if plan is None:
        if len(_plans) >= _MAX_PLANS:
            _plans.clear()  # models trained and dropped one after another (evaluations): keep only recent ones
        plan = _plans[id(pipeline)] = _Plan.of(pipeline)
    if plan.parts is not None:
        row = plan.rows.get(text)
        if row is None:
            row = plan.probabilities(text)
            if len(plan.rows) >= _MAX_ROWS:
                plan.rows.clear()
            plan.rows[text] = row
        return row.copy()
    from sklearn import config_context

    with config_context(assume_finite=True, skip_parameter_validation=True):
        return pipeline.predict_proba([text])[0]


def class_probabilities(pipeline: Any, text: str) -> dict[str, float]:
    """A fitted classifier's probability per class for one text."""
    row = probability_row(pipeline, text)
    return {label: float(p) for label, p in zip(pipeline.classes_, row, strict=True)}


class _Plan:
    """A union-then-logistic-regression pipeline taken apart: its extractors with their weights, and the regression's
    coefficients split per extractor (rows gathered by feature index for sparse features)."""

    def __init__(self, pipeline: Any, parts: list[tuple[Callable[[str], Any], float | None]] | None):
        self.pipeline, self.parts = pipeline, parts  # the pipeline is kept so its id is never reused
        self.blocks: list[Any] | None = None
        #: The rows of the texts classified lately: a turn asks a model about the same message more than once (the
        #: orchestrator's rules on each replay, the steps that read the same sentence), and the model is fixed.
        self.rows: dict[str, Any] = {}

    @classmethod
    def of(cls, pipeline: Any) -> _Plan:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion, Pipeline

        steps = getattr(pipeline, "steps", None) if isinstance(pipeline, Pipeline) else None
        if not steps or len(steps) != 2:
            return cls(pipeline, None)
        union, model = steps[0][1], steps[1][1]
        if not isinstance(union, FeatureUnion) or not isinstance(model, LogisticRegression):
            return cls(pipeline, None)
        weights = union.transformer_weights or {}
        if any(t in ("drop", "passthrough") for _, t in union.transformer_list):
            return cls(pipeline, None)
        return cls(pipeline, [(_TfidfRow(t) if type(t) is TfidfVectorizer else _transform_one(t), weights.get(name))
                              for name, t in union.transformer_list])

    def probabilities(self, text: str) -> Any:
        import numpy as np
        from scipy.special import expit, softmax

        model = self.pipeline.steps[1][1]
        features = [extract(text) for extract, _ in self.parts]  # type: ignore[union-attr]
        if self.blocks is None:
            blocks, offset = [], 0
            for x in features:
                width = x[2] if isinstance(x, tuple) else x.shape[-1]
                blocks.append(np.ascontiguousarray(model.coef_[:, offset:offset + width].T))
                offset += width
            if offset != model.coef_.shape[1]:
                raise ValueError(f"features {offset} != the regression's {model.coef_.shape[1]}")
            self.blocks = blocks  # whole, or not at all: another thread may be reading it
        decision = np.array(model.intercept_, dtype=np.float64)
        for x, block, (_, weight) in zip(features, self.blocks, self.parts, strict=True):  # type: ignore[arg-type]
            if isinstance(x, tuple):  # sparse: (indices, values, width)
                part = x[1] @ block[x[0]]
            else:
                part = np.asarray(x, dtype=np.float64).reshape(-1) @ block
            decision += part if weight is None else weight * part
        if len(model.classes_) <= 2:
            p = float(expit(decision[0]))
            return np.array([1.0 - p, p])
        return softmax(decision)


def _transform_one(transformer: Any) -> Callable[[str], Any]:
    """Any other extractor: its own ``transform`` on the one text (a sparse row becomes indices and values)."""

    def extract(text: str) -> Any:
        import scipy.sparse as sp

        x = transformer.transform([text])
        if sp.issparse(x):
            row = x.tocsr()
            return row.indices, row.data, row.shape[1]
        return x

    return extract


class _TfidfRow:
    """A fitted ``TfidfVectorizer``'s row for one text, from its public attributes (analyzer, vocabulary, idf,
    sublinear tf, binary, norm): the same values as its ``transform``, without building and validating a sparse
    matrix for one row."""

    def __init__(self, vectorizer: Any):
        self.analyze = vectorizer.build_analyzer()
        self.vocabulary = vectorizer.vocabulary_
        self.idf = vectorizer.idf_ if vectorizer.use_idf else None
        self.sublinear, self.binary, self.norm = vectorizer.sublinear_tf, vectorizer.binary, vectorizer.norm
        self.width = len(self.vocabulary)
        if self.norm not in ("l1", "l2", None):
            raise ValueError(f"norm {self.norm!r}")

    def __call__(self, text: str) -> tuple[Any, Any, int]:
        import numpy as np

        # Each distinct term once, in the order of its first occurrence (the order the features are summed in).
        terms = Counter(self.analyze(text))
        indices = np.array(list(map(self.vocabulary.get, terms, repeat(-1, len(terms)))), dtype=np.intp)
        values = np.array(list(terms.values()), dtype=np.float64)
        known = indices >= 0
        if not known.all():
            indices, values = indices[known], values[known]
        if self.binary:
            values[:] = 1.0
        if self.sublinear:
            values = np.log(values) + 1.0
        if self.idf is not None:
            values *= self.idf[indices]
        if self.norm is not None and len(values):
            size = np.sqrt(values @ values) if self.norm == "l2" else np.abs(values).sum()
            if size > 0:
                values /= size
        return indices, values, self.width


_plans: dict[int, _Plan] = {}
_MAX_PLANS = 16
_MAX_ROWS = 4096  # texts whose probabilities a model keeps
