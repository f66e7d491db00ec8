"""Which units of a knowledge document answer a question, and whether a retrieved document answers it at all.

Two small logistic models over question–unit features on the multilingual e5 embeddings (a French question meets
an English sentence by meaning, so it is cross-lingual by construction):

- the **unit model** scores each unit (sentence, table row with its headers, FAQ question and answer; see
  ``answer_units``) from its cosine to the question, that cosine against the document's best, the question words it
  shares (through the desk-topic synonyms of en / fr / es), its place in the document, its kind, whether it holds a
  figure the question asks for, and whether question and document are in different languages. It is trained on
  pairs the shops' own knowledge files give: each FAQ question with its answer, each section heading with its
  sentences, in the page's language and, through its translations, across languages (knowledge/tenants and the
  test tenants);
- the **answer model** turns a retrieved document into the calibrated probability that it answers the question
  (the retrieval score, the unit model's best probability, cosine and word overlap, its rank, the language gap).
  It is trained on the project's retrieval questions (knowledge/eval/retrieval: answerable ones with their expected
  documents, and ones no page answers), asked both of each shop and of an English-only copy of it, so a French or
  Spanish question against English pages is learned too. A document under ``ANSWERS`` is not used: the reply says
  it does not know.

Both are trained at build time (``python -m core.agents.answer_scorer train``) and cached under .data by a
fingerprint of their data; ``python -m core.agents.answer_scorer eval`` cross-validates them.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.agents.answer_units import Unit, units
from core.agents.model_cache import load_or_train
from core.config import REPO_ROOT

MODEL_VERSION = "answer-scorer-4"
ANSWERS = 0.5  # the answer model's probability from which a retrieved document is used
TENANTS_FILE = REPO_ROOT / "knowledge" / "eval" / "retrieval" / "tenants.json"
RETRIEVAL_DIR = REPO_ROOT / "knowledge" / "eval" / "retrieval"
UNIT_FEATURES = ("cos", "cos_gap", "words", "words_any", "position", "row", "qa", "figure", "cross_language")
ANSWER_FEATURES = ("score", "unit_p", "unit_cos", "unit_words", "rank", "cross_language", "missing",
                   "missing_same_language")

_models: dict | None = None
_lock = threading.Lock()
_unit_vectors: OrderedDict[str, np.ndarray] = OrderedDict()
_UNIT_CACHE = 20000
_vector_lock = threading.Lock()


def _embedder():
    from core.agents.intent import _embedder as e5

    return e5()


_passages = None


def _passage_embedder():
    """The e5 model the features were trained on, whatever the tenant's retrieval uses, with the embedding cache
    under DATA_DIR (a page's units are embedded once, across restarts)."""
    global _passages
    if _passages is None:
        from core.config import get_settings
        from core.rag.embedding_cache import CachedEmbedder, EmbeddingCache
        from core.rag.factory import rag_dir

        _passages = CachedEmbedder(_embedder(), EmbeddingCache(rag_dir(get_settings()) / "embeddings.sqlite"))
    return _passages


def unit_vectors(texts: list[str]) -> np.ndarray:
    """Passage embeddings of units (kept per process: the same pages are asked about all day)."""
    with _vector_lock:
        missing = [t for t in dict.fromkeys(texts) if t not in _unit_vectors]
    if missing:
        vectors = _passage_embedder().embed_passages(missing)
        with _vector_lock:
            for text, vector in zip(missing, vectors, strict=True):
                _unit_vectors[text] = vector / (np.linalg.norm(vector) or 1.0)
                if len(_unit_vectors) > _UNIT_CACHE:
                    _unit_vectors.popitem(last=False)
    with _vector_lock:
        return np.stack([_unit_vectors[t] for t in texts]) if texts else np.empty((0, 384), np.float32)


def question_vector(question: str) -> np.ndarray:
    vector = _embedder().embed_queries([question])[0]
    return vector / (np.linalg.norm(vector) or 1.0)


def unit_features(question: str, items: list[Unit], *, cross_language: bool, texts: list[str] | None = None,
                  vector: np.ndarray | None = None) -> np.ndarray:
    """One row of ``UNIT_FEATURES`` per unit (``texts``: what each unit is matched on, its matched text unless
    given)."""
    from core.agents.response import asks_figure, query_terms, words_of

    if not items:
        return np.empty((0, len(UNIT_FEATURES)))
    texts = texts or [u.matched_text for u in items]
    q = question_vector(question) if vector is None else vector
    cosines = unit_vectors(texts) @ q
    terms = query_terms(question)
    figure = asks_figure(question)
    rows = []
    for unit, text, cos in zip(items, texts, cosines, strict=True):
        words = words_of(text)
        shared = sum(1 for t in terms if t & words)
        rows.append([float(cos), float(cos - cosines.max()), shared / max(len(terms), 1), float(shared > 0),
                     unit.index / max(len(items) - 1, 1), float(unit.kind == "row"), float(unit.kind == "qa"),
                     float(figure and any(ch.isdigit() for ch in unit.text)), float(cross_language)])
    return np.array(rows)


@dataclass
class Scored:
    units: list[Unit]
    probabilities: np.ndarray
    features: np.ndarray


def score_units(question: str, document: str, *, cross_language: bool, items: list[Unit] | None = None) -> Scored:
    """The document's units with the probability that each answers the question."""
    items = units(document) if items is None else items
    features = unit_features(question, items, cross_language=cross_language)
    if not items:
        return Scored([], np.empty(0), features)
    return Scored(items, _get_models()["unit"].predict_proba(features)[:, 1], features)


def missing_share(question: str, document: str) -> float:
    """The share of the question's words (with their translations) the whole document never uses: "do you sell
    bicycles?" against a privacy policy that "never sells your data"."""
    from core.agents.response import query_terms, words_of

    terms = [t for t in query_terms(question) if not all(w.isdigit() for w in t)]
    if not terms:
        return 0.0
    words = words_of(document)
    return sum(1 for t in terms if not t & words) / len(terms)


def answer_features(score: float, scored: Scored, rank: int, cross_language: bool, missing: float) -> list[float]:
    same = 0.0 if cross_language else missing
    if not scored.units:
        return [score, 0.0, 0.0, 0.0, float(rank), float(cross_language), missing, same]
    best = int(scored.probabilities.argmax())
    return [score, float(scored.probabilities[best]), float(scored.features[:, 0].max()),
            float(scored.features[:, 2].max()), float(rank), float(cross_language), missing, same]


def answers(question: str, document: str, *, score: float, rank: int, cross_language: bool) -> float:
    """The calibrated probability that a retrieved document answers the question, from its retrieved passage
    (``document``), its retrieval ``score`` and its 0-based ``rank``."""
    scored = score_units(question, document, cross_language=cross_language)
    row = np.array([answer_features(score, scored, rank, cross_language, missing_share(question, document))])
    return float(_get_models()["answer"].predict_proba(row)[0, 1])


# -- training -------------------------------------------------------------------------------------------------------
def _tenants() -> dict[str, Path]:
    return {t: REPO_ROOT / f for t, f in json.loads(TENANTS_FILE.read_text(encoding="utf-8")).items()}


def _fingerprint() -> str:
    from core.agents.intent import embedding_engine_id

    digest = hashlib.sha256(f"{MODEL_VERSION}\x00{embedding_engine_id()}".encode())
    paths = sorted(RETRIEVAL_DIR.glob("*"))
    for folder in _tenants().values():
        paths += sorted(p for p in folder.rglob("*") if p.suffix in (".md", ".json", ".txt"))
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _load_tenants():
    """(search, store, {tenant: documents}) over the training shops and an English-only copy of each shop that
    translates its pages."""
    import tempfile

    from core.config import get_settings
    from core.rag.factory import build_embedder
    from core.rag.retrieval import KB_COLLECTION, KB_VERSION_ID, META_COLLECTION, KnowledgeSearch
    from core.rag.vector_index import EmbeddedVectorIndex
    from core.stores.memory_store import MemoryDocumentStore
    from core.tenants import import_tenant

    settings = get_settings()
    store = MemoryDocumentStore()
    tmp = tempfile.mkdtemp(prefix="answer-scorer-")
    search = KnowledgeSearch(store, settings, embedder=build_embedder(settings), index=EmbeddedVectorIndex(Path(tmp)))
    documents = {}
    for tenant, folder in _tenants().items():
        for name, english_only in ((tenant, False), (f"{tenant}-en-only", True)):
            import_tenant(name, folder, store, index=False)
            if english_only:
                foreign = [d for d in search.kb_documents(name) if not d.lang.startswith("en")]
                if not foreign:
                    continue
                for doc in foreign:
                    store.delete(name, KB_COLLECTION, doc.id)
                store.put(name, META_COLLECTION, KB_VERSION_ID, {"documents": len(search.kb_documents(name))})
            search.sync(name)
            documents[name] = search.kb_documents(name)
    return search, documents


def unit_pairs(documents) -> list[tuple[str, list[Unit], list[str], int, bool]]:
    """(question, units, texts, answering unit index or -1 for a section, cross-language) from the pages' own
    structure: each FAQ question with its answer, each section heading with its sentences, also asked in the
    languages of the page's translations."""
    by_id = {d.id: d for d in documents}
    out = []
    for doc in documents:
        if doc.translation_of and doc.translation_of in by_id:
            continue
        items = units(doc.content)
        if len(items) < 2:
            continue
        texts = [u.text for u in items]  # never the question or heading being asked
        askers = [(doc, False)] + [(t, True) for t in documents if t.translation_of == doc.id]
        for asker, cross in askers:
            asked = units(asker.content) if asker is not doc else items
            qa = [u for u in asked if u.kind == "qa"]
            if len(qa) == sum(u.kind == "qa" for u in items):
                answers_ = [u for u in items if u.kind == "qa"]
                for question, answer in zip(qa, answers_, strict=True):
                    out.append((question.question, items, texts, answer.index, cross))
            headings = list(dict.fromkeys(u.heading for u in asked if u.heading and u.kind != "qa"))
            own = list(dict.fromkeys(u.heading for u in items if u.heading and u.kind != "qa"))
            if len(headings) == len(own):
                for heading, original in zip(headings, own, strict=True):
                    out.append((heading, items, texts, -1 - own.index(original), cross))
    return out


def _unit_rows(documents) -> tuple[list[np.ndarray], list[np.ndarray]]:
    features, labels = [], []
    for question, items, texts, target, cross in unit_pairs(documents):
        rows = unit_features(question, items, cross_language=cross, texts=texts)
        if target >= 0:
            label = np.array([u.index == target for u in items], dtype=float)
        else:
            heading = list(dict.fromkeys(u.heading for u in items if u.heading and u.kind != "qa"))[-1 - target]
            label = np.array([u.heading == heading and u.kind != "qa" for u in items], dtype=float)
        features.append(rows)
        labels.append(label)
    return features, labels


def _retrieval_questions() -> list[dict]:
    rows = []
    for path in sorted(RETRIEVAL_DIR.glob("*.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows


def _answer_rows(search, documents, unit_model) -> tuple[np.ndarray, np.ndarray, list[str]]:
    from core.rag.vector_index import base_language

    features, labels, groups = [], [], []
    for q in _retrieval_questions():
        for tenant in (q["tenant"], f"{q['tenant']}-en-only"):
            if tenant not in documents:
                continue
            content = {d.id: d for d in documents[tenant]}
            group_of = {d.id: d.translation_of or d.id for d in documents[tenant]}
            expected = {group_of.get(e, e) for e in q["expected"]}
            for rank, hit in enumerate(search.search(tenant, q["query"], k=3, lang=q["lang"])):
                doc = content.get(hit.doc_id)
                if doc is None:
                    continue
                cross = base_language(doc.lang) != base_language(q["lang"])
                items = units(hit.passage)
                unit_rows = unit_features(q["query"], items, cross_language=cross)
                probabilities = unit_model.predict_proba(unit_rows)[:, 1] if items else np.empty(0)
                scored = Scored(items, probabilities, unit_rows)
                features.append(answer_features(hit.score, scored, rank, cross,
                                                missing_share(q["query"], hit.passage)))
                labels.append(float(group_of.get(hit.doc_id, hit.doc_id) in expected))
                groups.append(q["id"])
    return np.array(features), np.array(labels), groups


def _fit(features: np.ndarray, labels: np.ndarray):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000)).fit(features, labels)


def train() -> dict:
    search, documents = _load_tenants()
    all_documents = [d for docs in documents.values() for d in docs]
    unit_x, unit_y = _unit_rows([d for name, docs in documents.items() if not name.endswith("-en-only")
                                 for d in docs])
    unit_model = _fit(np.vstack(unit_x), np.concatenate(unit_y))
    answer_x, answer_y, _ = _answer_rows(search, documents, unit_model)
    del all_documents
    return {"unit": unit_model, "answer": _fit(answer_x, answer_y)}


def _get_models() -> dict:
    global _models
    if _models is None:
        with _lock:
            if _models is None:
                cache = REPO_ROOT / ".data" / f"answer-scorer-{_fingerprint()}.joblib"
                _models = load_or_train(cache, train)
    return _models


def evaluate() -> None:
    """Unit model: top-1 accuracy of the answering unit on held-out pages (5 folds by page); answer model: accuracy
    and precision of "answers" on held-out questions (5 folds by question)."""
    search, documents = _load_tenants()
    own = [d for name, docs in documents.items() if not name.endswith("-en-only") for d in docs]
    originals = sorted({d.translation_of or d.id for d in own})
    random.Random(3).shuffle(originals)
    hits = total = 0
    for k in range(5):
        held = set(originals[k::5])
        train_docs = [d for d in own if (d.translation_of or d.id) not in held]
        test_docs = [d for d in own if (d.translation_of or d.id) in held]
        x, y = _unit_rows(train_docs)
        model = _fit(np.vstack(x), np.concatenate(y))
        for question, items, texts, target, cross in unit_pairs(test_docs):
            if target < 0:
                continue
            p = model.predict_proba(unit_features(question, items, cross_language=cross, texts=texts))[:, 1]
            hits += int(items[int(p.argmax())].index == target)
            total += 1
    print(f"unit model: answering FAQ unit ranked first on held-out pages {hits}/{total} = {hits / max(total, 1):.3f}")
    x_all, y_all = _unit_rows(own)
    unit_model = _fit(np.vstack(x_all), np.concatenate(y_all))
    x, y, groups = _answer_rows(search, documents, unit_model)
    names = sorted(set(groups))
    random.Random(5).shuffle(names)
    right = kept = kept_right = 0
    for k in range(5):
        held = set(names[k::5])
        mask = np.array([g in held for g in groups])
        model = _fit(x[~mask], y[~mask])
        predicted = model.predict_proba(x[mask])[:, 1] >= ANSWERS
        right += int((predicted == (y[mask] > 0.5)).sum())
        kept += int(predicted.sum())
        kept_right += int((predicted & (y[mask] > 0.5)).sum())
    for threshold in (0.3, 0.35, 0.4, 0.45, 0.5):
        probabilities = np.zeros(len(y))
        for k in range(5):
            held = set(names[k::5])
            mask = np.array([g in held for g in groups])
            probabilities[mask] = _fit(x[~mask], y[~mask]).predict_proba(x[mask])[:, 1]
        kept_mask = probabilities >= threshold
        good = int((kept_mask & (y > 0.5)).sum())
        print(f"  at {threshold}: precision {good / max(int(kept_mask.sum()), 1):.3f}, "
              f"recall {good / max(int(y.sum()), 1):.3f}")
    rule = x[:, 0] >= 0.64  # the fixed cut on the retrieval score it replaces
    rule_right = int((rule & (y > 0.5)).sum())
    print(f"fixed cut (score >= 0.64) on the same hits: accuracy {(rule == (y > 0.5)).mean():.3f}, precision "
          f"{rule_right / max(int(rule.sum()), 1):.3f}, recall {rule_right / max(int(y.sum()), 1):.3f}")
    print(f"answer model on held-out questions: accuracy {right / len(y):.3f}, precision of 'answers' "
          f"{kept_right / max(kept, 1):.3f}, recall {kept_right / max(int(y.sum()), 1):.3f} ({len(y)} hits)")


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m core.agents.answer_scorer")
    parser.add_argument("command", choices=["train", "eval"])
    args = parser.parse_args(argv)
    if args.command == "train":
        _get_models()
        print("answer scorer ready")
    else:
        evaluate()
    return 0


if __name__ == "__main__":
    from core.agents.answer_scorer import main as _main

    raise SystemExit(_main())
