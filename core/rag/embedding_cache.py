"""Content-addressed embedding cache: (model id, sha256 of the exact text) -> vector, in SQLite under DATA_DIR.

Re-importing a tenant, restarting the host or re-indexing a blob only embeds text the model has never seen.
Several processes (CLI import, local host) may share the file: SQLite WAL keeps their writes safe.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .embedders import Embedder


def text_key(kind: str, text: str) -> bytes:
    return hashlib.sha256(f"{kind}\x00{text}".encode()).digest()


class EmbeddingCache:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS embeddings (model_id TEXT NOT NULL, key BLOB NOT NULL, "
                         "vector BLOB NOT NULL, PRIMARY KEY (model_id, key)) WITHOUT ROWID")
        self._lock = threading.Lock()

    def get_many(self, model_id: str, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                part = list(keys[start:start + 500])
                marks = ",".join("?" * len(part))
                rows = self._db.execute(f"SELECT key, vector FROM embeddings WHERE model_id = ? AND key IN ({marks})",
                                        [model_id, *part]).fetchall()
                for key, blob in rows:
                    found[bytes(key)] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, model_id: str, items: Sequence[tuple[bytes, np.ndarray]]) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO embeddings (model_id, key, vector) VALUES (?, ?, ?)",
                                 [(model_id, key, np.asarray(vec, dtype=np.float32).tobytes()) for key, vec in items])
            self._db.execute("COMMIT")

    def count(self, model_id: str) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM embeddings WHERE model_id = ?", [model_id]).fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


class CachedEmbedder:
    """An embedder that asks the cache first and embeds only the misses (passages); queries use a small LRU."""

    def __init__(self, inner: Embedder, cache: EmbeddingCache | None, query_cache_size: int = 2048):
        self.inner = inner
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        self._cache = cache
        self._queries: dict[str, np.ndarray] = {}
        self._query_cache_size = query_cache_size
        self._lock = threading.Lock()
        self.embedded = 0  # passages actually sent to the model (the rest came from the cache)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        keys = [text_key("passage", t) for t in texts]
        found = self._cache.get_many(self.model_id, keys) if self._cache else {}
        missing = [i for i, key in enumerate(keys) if key not in found]
        if missing:
            vectors = self.inner.embed_passages([texts[i] for i in missing])
            self.embedded += len(missing)
            for row, i in enumerate(missing):
                found[keys[i]] = vectors[row]
            if self._cache:
                self._cache.put_many(self.model_id, [(keys[i], vectors[row]) for row, i in enumerate(missing)])
        for i, key in enumerate(keys):
            vector = found[key]
            if vector.shape[0] != self.dimension:
                raise ValueError(f"cached vector has dimension {vector.shape[0]}, expected {self.dimension}")
            out[i] = vector
        return out

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        with self._lock:
            cached = {t: self._queries[t] for t in texts if t in self._queries}
        missing = [t for t in dict.fromkeys(texts) if t not in cached]
        if missing:
            vectors = self.inner.embed_queries(missing)
            with self._lock:
                for text, vector in zip(missing, vectors, strict=True):
                    if len(self._queries) >= self._query_cache_size:
                        self._queries.pop(next(iter(self._queries)))
                    self._queries[text] = vector
                    cached[text] = vector
        return np.stack([cached[t] for t in texts]) if texts else np.empty((0, self.dimension), np.float32)
