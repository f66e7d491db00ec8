"""VectorIndex port and the embedded adapter (exact numpy search, one SQLite file per tenant under DATA_DIR).

An index belongs to one tenant and records the embedding model id and dimension it was built with; using it
with another model raises ``IndexMismatchError`` instead of silently comparing incompatible vectors.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from core.models import TENANT_ID_PATTERN


class IndexMismatchError(RuntimeError):
    """The tenant's index was built with another embedding model or dimension."""


@dataclass(frozen=True)
class ChunkRecord:
    """One indexed passage. ``group_id`` ties translations of a document together (``translation_of`` or id)."""

    doc_id: str
    position: int
    group_id: str
    title: str
    url: str | None
    lang: str
    category: str
    text: str
    doc_hash: str
    card: bool = False  # a short title card (name, type, tags): evidence for the document, never quoted

    @property
    def chunk_id(self) -> str:
        return f"{self.doc_id}#{self.position}"


@dataclass(frozen=True)
class IndexInfo:
    model_id: str
    dimension: int
    chunks: int
    documents: int


def mismatch(tenant_id: str, info_model: str, info_dim: int, model_id: str, dimension: int) -> IndexMismatchError:
    return IndexMismatchError(
        f"tenant {tenant_id!r}: knowledge index was built with {info_model} ({info_dim} dimensions) but the "
        f"configured embedder is {model_id} ({dimension} dimensions); re-index the tenant "
        f"(python -m core.rag reindex {tenant_id} --rebuild) or set EMBEDDER back")


def check_tenant(tenant_id: str) -> str:
    if not re.match(TENANT_ID_PATTERN, tenant_id):
        raise ValueError(f"invalid tenant id {tenant_id!r}")
    return tenant_id


class VectorIndex(Protocol):
    def ensure(self, tenant_id: str, model_id: str, dimension: int) -> None:
        """Create the tenant's index for this model, or check an existing one matches (IndexMismatchError)."""
        ...

    def info(self, tenant_id: str) -> IndexInfo | None: ...

    def document_hashes(self, tenant_id: str) -> dict[str, str]:
        """doc id -> content hash of every indexed document."""
        ...

    def replace_document(self, tenant_id: str, doc_id: str, records: Sequence[ChunkRecord],
                         vectors: np.ndarray) -> None: ...

    def delete_document(self, tenant_id: str, doc_id: str) -> int: ...

    def drop(self, tenant_id: str) -> None: ...

    def search(self, tenant_id: str, vector: np.ndarray, k: int,
               language_bias: dict[str, float] | None = None) -> list[tuple[ChunkRecord, float]]:
        """Top-k chunks by cosine similarity (vectors are normalised), minus ``language_bias[base language]`` of
        each chunk when given (see ``language_centroids``)."""
        ...

    def language_centroids(self, tenant_id: str) -> dict[str, np.ndarray]:
        """Mean chunk vector per base language (``en``, ``fr``...) and ``*`` for all chunks. ``q . c_lang`` is the
        mean similarity of query ``q`` to that language's chunks."""
        ...

    def records(self, tenant_id: str) -> list[ChunkRecord]:
        """Every chunk without its vector (feeds the lexical index)."""
        ...

    def revision(self, tenant_id: str) -> str:
        """Changes whenever the tenant's index changes (cheap to call before every search)."""
        ...


_FIELDS = "doc_id, position, group_id, title, url, lang, category, text, doc_hash, card"


def base_language(lang: str | None) -> str:
    return (lang or "en").split("-")[0].lower()


class _Loaded:
    def __init__(self, revision: int, records: list[ChunkRecord], matrix: np.ndarray):
        self.revision = revision
        self.records = records
        self.matrix = matrix
        langs = [base_language(r.lang) for r in records]
        self.languages = sorted(set(langs))
        self.language_of = np.array([self.languages.index(lang) for lang in langs], dtype=np.int32)
        self.centroids = {lang: matrix[self.language_of == i].mean(axis=0)
                          for i, lang in enumerate(self.languages)}
        if len(records):
            self.centroids["*"] = matrix.mean(axis=0)


class EmbeddedVectorIndex:
    """Exact cosine search over an in-memory float32 matrix, persisted per tenant in
    ``<root>/<tenant>.sqlite`` so a restart reloads vectors instead of re-embedding."""

    def __init__(self, root: Path):
        self._root = root
        self._root.mkdir(parents=True, exist_ok=True)
        self._conns: dict[str, sqlite3.Connection] = {}
        self._loaded: dict[str, _Loaded] = {}
        self._lock = threading.RLock()

    def _db(self, tenant_id: str) -> sqlite3.Connection:
        check_tenant(tenant_id)
        with self._lock:
            db = self._conns.get(tenant_id)
            if db is None:
                db = sqlite3.connect(self._root / f"{tenant_id}.sqlite", check_same_thread=False, timeout=30,
                                     isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                columns = _FIELDS.replace("position", "position INTEGER").replace("card", "card INTEGER")
                db.execute(f"CREATE TABLE IF NOT EXISTS chunks ({columns}, "
                           "vector BLOB NOT NULL, PRIMARY KEY (doc_id, position))")
                db.execute("INSERT OR IGNORE INTO info VALUES ('revision', '0')")
                self._conns[tenant_id] = db
            return db

    def _info_values(self, db: sqlite3.Connection) -> dict[str, str]:
        return dict(db.execute("SELECT key, value FROM info").fetchall())

    def ensure(self, tenant_id: str, model_id: str, dimension: int) -> None:
        with self._lock:
            db = self._db(tenant_id)
            values = self._info_values(db)
            if "model_id" not in values:
                db.execute("INSERT OR REPLACE INTO info VALUES ('model_id', ?), ('dimension', ?)",
                           [model_id, str(dimension)])
                return
            if values["model_id"] != model_id or int(values["dimension"]) != dimension:
                raise mismatch(tenant_id, values["model_id"], int(values["dimension"]), model_id, dimension)

    def info(self, tenant_id: str) -> IndexInfo | None:
        with self._lock:
            db = self._db(tenant_id)
            values = self._info_values(db)
            if "model_id" not in values:
                return None
            chunks, docs = db.execute("SELECT COUNT(*), COUNT(DISTINCT doc_id) FROM chunks").fetchone()
            return IndexInfo(values["model_id"], int(values["dimension"]), chunks, docs)

    def document_hashes(self, tenant_id: str) -> dict[str, str]:
        with self._lock:
            rows = self._db(tenant_id).execute("SELECT DISTINCT doc_id, doc_hash FROM chunks").fetchall()
        return dict(rows)

    def _bump(self, db: sqlite3.Connection) -> None:
        db.execute("UPDATE info SET value = CAST(value AS INTEGER) + 1 WHERE key = 'revision'")

    def replace_document(self, tenant_id: str, doc_id: str, records: Sequence[ChunkRecord],
                         vectors: np.ndarray) -> None:
        if len(records) != len(vectors):
            raise ValueError("one vector per chunk")
        with self._lock:
            db = self._db(tenant_id)
            dimension = int(self._info_values(db).get("dimension", 0))
            if vectors.size and vectors.shape[1] != dimension:
                raise IndexMismatchError(f"tenant {tenant_id!r}: vector dimension {vectors.shape[1]} does not match "
                                         f"the index ({dimension})")
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("DELETE FROM chunks WHERE doc_id = ?", [doc_id])
                db.executemany(
                    f"INSERT INTO chunks ({_FIELDS}, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(r.doc_id, r.position, r.group_id, r.title, r.url, r.lang, r.category, r.text, r.doc_hash,
                      int(r.card), np.asarray(v, dtype=np.float32).tobytes())
                     for r, v in zip(records, vectors, strict=True)])
                self._bump(db)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def delete_document(self, tenant_id: str, doc_id: str) -> int:
        with self._lock:
            db = self._db(tenant_id)
            removed = db.execute("DELETE FROM chunks WHERE doc_id = ?", [doc_id]).rowcount
            if removed:
                self._bump(db)
            return removed

    def drop(self, tenant_id: str) -> None:
        with self._lock:
            db = self._db(tenant_id)
            db.execute("DELETE FROM chunks")
            db.execute("DELETE FROM info WHERE key IN ('model_id', 'dimension')")
            self._bump(db)
            self._loaded.pop(tenant_id, None)

    def revision(self, tenant_id: str) -> str:
        with self._lock:
            return self._db(tenant_id).execute("SELECT value FROM info WHERE key = 'revision'").fetchone()[0]

    def _load(self, tenant_id: str) -> _Loaded:
        with self._lock:
            revision = int(self.revision(tenant_id))
            loaded = self._loaded.get(tenant_id)
            if loaded is not None and loaded.revision == revision:
                return loaded
            db = self._db(tenant_id)
            dimension = int(self._info_values(db).get("dimension", 0))
            rows = db.execute(f"SELECT {_FIELDS}, vector FROM chunks ORDER BY doc_id, position").fetchall()
            records = [ChunkRecord(*row[:9], card=bool(row[9])) for row in rows]
            matrix = np.empty((len(rows), dimension), dtype=np.float32)
            for i, row in enumerate(rows):
                matrix[i] = np.frombuffer(row[10], dtype=np.float32)
            loaded = _Loaded(revision, records, matrix)
            self._loaded[tenant_id] = loaded
            return loaded

    def records(self, tenant_id: str) -> list[ChunkRecord]:
        return list(self._load(tenant_id).records)

    def language_centroids(self, tenant_id: str) -> dict[str, np.ndarray]:
        return dict(self._load(tenant_id).centroids)

    def search(self, tenant_id: str, vector: np.ndarray, k: int,
               language_bias: dict[str, float] | None = None) -> list[tuple[ChunkRecord, float]]:
        loaded = self._load(tenant_id)
        if not loaded.records or k <= 0:
            return []
        if vector.shape[-1] != loaded.matrix.shape[1]:
            raise IndexMismatchError(f"tenant {tenant_id!r}: query dimension {vector.shape[-1]} does not match the "
                                     f"index ({loaded.matrix.shape[1]})")
        scores = loaded.matrix @ vector.astype(np.float32)
        if language_bias:
            offsets = np.array([language_bias.get(lang, 0.0) for lang in loaded.languages], dtype=np.float32)
            scores = scores - offsets[loaded.language_of]
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(loaded.records[i], float(scores[i])) for i in top]

    def close(self) -> None:
        with self._lock:
            for db in self._conns.values():
                db.close()
            self._conns.clear()
            self._loaded.clear()
