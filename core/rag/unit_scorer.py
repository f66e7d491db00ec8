"""A learned scorer of answering units: how likely a unit holds the answer to a question, beyond their similarity.

The embedder finds the sentences of a page about a subject about equally close to any question on that subject; the
one that answers holds what the question asks for (a date for "until when?", a figure for "how much?", the row of
the case asked about). The scorer is a logistic model over question-unit pairs: the element-wise product of the
question's vector with the unit's (and with its subject's, ``Unit.subject``), whether the unit gives a figure, and
its kind (sentence, list item, table row, FAQ pair). The embedder is multilingual, so what it learns of a question's
form ("hasta cuándo", "until when", "jusqu'à quand") carries across languages.

It is trained on the questions of the development shops whose expected answer a unit of their pages holds (turns
whose answer is quoted from a page: the units holding an expected phrase are the answers, the other close units of
the shop the rest), and judged on shops it was not trained on:

    python -m core.rag.unit_scorer eval     # held-out top-1 unit, by groups of shops, against the similarity alone
    python -m core.rag.unit_scorer train    # writes core/rag/data/unit-scorer.npz

Its weights hold for the embedding model they were trained with only (recorded in the file); another model's units
rank by similarity alone.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

WEIGHTS = Path(__file__).parent / "data" / "unit-scorer.npz"
KINDS = ("sentence", "item", "row", "qa")
CANDIDATES = 30  # the units closest to a question that a training question's answers are told apart from
MAX_ANSWERS = 6  # a question whose expected phrase many units hold tells little of which one answers
REGULARISATION = 0.1
FOLDS = 4
EVAL_WEIGHT = 0.01  # the log-odds' weight against the similarity that ``eval`` judges


class UnitScorer:
    def __init__(self, own: np.ndarray, subject: np.ndarray, extra: np.ndarray):
        self.own, self.subject, self.extra = own, subject, extra

    def __call__(self, query: np.ndarray, vectors: np.ndarray, subjects: np.ndarray, units: Sequence) -> np.ndarray:
        """The scorer's log-odds for each unit (``vectors``: the units' vectors, ``subjects``: their subjects')."""
        return vectors @ (self.own * query) + subjects @ (self.subject * query) + _extra(units) @ self.extra


def _extra(units: Sequence) -> np.ndarray:
    return np.array([[float(any(c.isdigit() for c in u.text)), *(float(u.kind == k) for k in KINDS)] for u in units],
                    dtype=np.float32).reshape(len(units), 1 + len(KINDS))


@functools.lru_cache(maxsize=4)
def scorer_for(model_id: str) -> UnitScorer | None:
    """The trained scorer for units embedded by ``model_id``, or None when none was trained for it."""
    if not WEIGHTS.exists():
        return None
    with np.load(WEIGHTS) as data:
        if str(data["model_id"]) != model_id:
            return None
        return UnitScorer(data["own"], data["subject"], data["extra"])


# Training ----------------------------------------------------------------------------------------------------------
def _shop_pairs(shop: Path, embedder) -> dict | None:
    import json

    from core.rag.answer_units import split_units
    from core.rag.documents import iter_knowledge_files, parse_file, product_document
    from core.text import fold

    tenant = json.loads((shop / "tenant.json").read_text(encoding="utf-8"))
    documents = [d for path in iter_knowledge_files(shop) for d in parse_file(path)]
    if (shop / "products.json").exists():
        products = json.loads((shop / "products.json").read_text(encoding="utf-8"))
        products = products.get("products", []) if isinstance(products, dict) else products
        documents += [product_document(p, tenant.get("currency", "CAD"), tenant.get("shop_url")) for p in products]
    units = [u for d in documents for u in split_units(d.content)]
    if not units:
        return None
    vectors = embedder.embed_passages([u.context for u in units])
    named = sorted({u.subject for u in units if u.subject})
    about = dict(zip(named, embedder.embed_passages(named), strict=True)) if named else {}
    subjects = np.stack([about.get(u.subject, vectors[i]) for i, u in enumerate(units)])
    questions = json.loads((shop.parent / f"{shop.name}.questions.json").read_text(encoding="utf-8"))
    asked, answers = [], []
    for conversation in questions["conversations"]:
        turn = conversation["turns"][0]  # (a later turn leans on the ones before it)
        phrases = [fold(p) for group in (turn.get("expect") or {}).get("all") or []
                   for p in (group if isinstance(group, list) else [group]) if len(p) >= 2]
        found = [i for i, u in enumerate(units) if any(p in fold(u.text) for p in phrases)]
        if found and len(found) <= MAX_ANSWERS:
            asked.append(turn["message"])
            answers.append(found)
    if not asked:
        return None
    return {"shop": shop.name, "units": units, "vectors": vectors, "subjects": subjects,
            "queries": embedder.embed_queries(asked), "answers": answers}


def _groups(shops: list[dict]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per training question: its candidates' features, which of them answer, and their similarity ranking."""
    out = []
    for shop in shops:
        extra = _extra(shop["units"])
        for query, answers in zip(shop["queries"], shop["answers"], strict=True):
            base = shop["vectors"] @ query + 0.3 * (shop["subjects"] @ query)
            top = np.argsort(-base)[:CANDIDATES]
            labels = np.isin(top, answers).astype(float)
            if labels.any():
                features = np.hstack([shop["vectors"][top] * query, shop["subjects"][top] * query, extra[top]])
                out.append((features, labels, base[top]))
    return out


def _fit(groups):
    from sklearn.linear_model import LogisticRegression

    features = np.vstack([g[0] for g in groups])
    labels = np.concatenate([g[1] for g in groups])
    return LogisticRegression(C=REGULARISATION, max_iter=2000, class_weight="balanced").fit(features, labels)


def _load_shops(folder: Path) -> tuple[list[dict], str]:
    from core.config import get_settings
    from core.services import build_services

    embedder = build_services(get_settings()).knowledge.embedder
    shops = [_shop_pairs(p, embedder) for p in sorted(folder.iterdir()) if (p / "tenant.json").exists()]
    return [s for s in shops if s], embedder.model_id


def evaluate(shops: list[dict], weight: float) -> tuple[int, int, int]:
    """Held-out top-1 over ``FOLDS`` groups of shops: (right by similarity, right with the scorer, questions)."""
    names = sorted(s["shop"] for s in shops)
    plain = scored = total = 0
    for fold_number in range(FOLDS):
        held = [s for s in shops if names.index(s["shop"]) % FOLDS == fold_number]
        model = _fit(_groups([s for s in shops if s not in held]))
        for features, labels, base in _groups(held):
            plain += labels[np.argmax(base)] > 0
            scored += labels[np.argmax(base + weight * model.decision_function(features))] > 0
            total += 1
    return plain, scored, total


def main(argv: list[str]) -> int:
    import os

    from core.config import REPO_ROOT, load_local_settings

    os.environ.setdefault("FUNCTIONS_WORKER_RUNTIME", "python")
    load_local_settings(REPO_ROOT / "local.settings.sample.json")
    shops, model_id = _load_shops(REPO_ROOT / "tests" / "evals" / "shops")
    if argv[:1] == ["eval"]:
        plain, scored, total = evaluate(shops, EVAL_WEIGHT)
        print(f"held-out top-1 unit: similarity {plain}/{total} ({plain / total:.3f}), "
              f"with the scorer {scored}/{total} ({scored / total:.3f})")
        return 0
    model = _fit(_groups(shops))
    dimension = shops[0]["vectors"].shape[1]
    weights = model.coef_[0].astype(np.float32)
    np.savez(WEIGHTS, model_id=np.array(model_id), own=weights[:dimension], subject=weights[dimension:2 * dimension],
             extra=weights[2 * dimension:])
    print(f"wrote {WEIGHTS} ({sum(len(s['answers']) for s in shops)} questions, {len(shops)} shops)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
