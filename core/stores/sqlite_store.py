"""Embedded document store on SQLite: the local default, a real database that survives restarts."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .patching import apply_patch
from .ports import BatchError, BatchOperation, ConcurrencyError, PatchOp, StoredDocument

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    tenant_id TEXT NOT NULL,
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    etag TEXT NOT NULL,
    updated_at REAL NOT NULL,
    expires_at REAL,
    PRIMARY KEY (tenant_id, collection, id)
) WITHOUT ROWID;
"""


class SqliteDocumentStore:
    def __init__(self, path: Path | str):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._lock = threading.Lock()
        with self._connect() as conn:
            conn.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE takes the write lock up front, so read-check-write is atomic)."""
        conn = self._connect()
        with self._lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    @staticmethod
    def _current(conn: sqlite3.Connection, tenant_id: str, collection: str, doc_id: str, now: float):
        row = conn.execute(
            "SELECT body, etag, expires_at FROM documents WHERE tenant_id=? AND collection=? AND id=?",
            (tenant_id, collection, doc_id),
        ).fetchone()
        return None if row is None or (row[2] is not None and row[2] < now) else row

    def get(self, tenant_id: str, collection: str, doc_id: str) -> StoredDocument | None:
        row = self._connect().execute(
            "SELECT body, etag, expires_at FROM documents WHERE tenant_id=? AND collection=? AND id=?",
            (tenant_id, collection, doc_id),
        ).fetchone()
        if row is None or (row[2] is not None and row[2] < time.time()):
            return None
        return StoredDocument(doc_id, json.loads(row[0]), row[1])

    def put(
        self,
        tenant_id: str,
        collection: str,
        doc_id: str,
        body: dict[str, Any],
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
        ttl_seconds: int | None = None,
    ) -> str:
        etag = uuid.uuid4().hex
        now = time.time()
        expires = now + ttl_seconds if ttl_seconds else None
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        conn = self._connect()
        with self._lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(
                    "SELECT etag, expires_at FROM documents WHERE tenant_id=? AND collection=? AND id=?",
                    (tenant_id, collection, doc_id),
                ).fetchone()
                exists = row is not None and not (row[1] is not None and row[1] < now)
                if if_none_match and exists:
                    raise ConcurrencyError(f"{collection}/{doc_id} already exists")
                if if_match is not None and (not exists or row[0] != if_match):
                    raise ConcurrencyError(f"{collection}/{doc_id} changed since it was read")
                conn.execute(
                    "INSERT OR REPLACE INTO documents VALUES (?,?,?,?,?,?,?)",
                    (tenant_id, collection, doc_id, data, etag, now, expires),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return etag

    def delete(self, tenant_id: str, collection: str, doc_id: str) -> bool:
        with self._lock:
            cur = self._connect().execute(
                "DELETE FROM documents WHERE tenant_id=? AND collection=? AND id=?", (tenant_id, collection, doc_id)
            )
        return cur.rowcount > 0

    def list(self, tenant_id: str, collection: str, *, prefix: str = "", limit: int = 1000) -> list[StoredDocument]:
        rows = self._connect().execute(
            "SELECT id, body, etag FROM documents WHERE tenant_id=? AND collection=? AND id >= ? AND id < ? "
            "AND (expires_at IS NULL OR expires_at >= ?) ORDER BY id LIMIT ?",
            (tenant_id, collection, prefix, prefix + "\U0010ffff", time.time(), limit),
        ).fetchall()
        return [StoredDocument(r[0], json.loads(r[1]), r[2]) for r in rows]

    def count(self, tenant_id: str, collection: str) -> int:
        return self._connect().execute(
            "SELECT COUNT(*) FROM documents WHERE tenant_id=? AND collection=? "
            "AND (expires_at IS NULL OR expires_at >= ?)",
            (tenant_id, collection, time.time()),
        ).fetchone()[0]

    def patch(self, tenant_id: str, collection: str, doc_id: str, operations: list[PatchOp], *,
              if_match: str | None = None) -> StoredDocument:
        etag = uuid.uuid4().hex
        with self._transaction() as conn:
            row = self._current(conn, tenant_id, collection, doc_id, time.time())
            if row is None:
                raise KeyError(f"{collection}/{doc_id}")
            if if_match is not None and row[1] != if_match:
                raise ConcurrencyError(f"{collection}/{doc_id} changed since it was read")
            body = apply_patch(json.loads(row[0]), operations)
            conn.execute(
                "UPDATE documents SET body=?, etag=?, updated_at=? WHERE tenant_id=? AND collection=? AND id=?",
                (json.dumps(body, ensure_ascii=False, separators=(",", ":")), etag, time.time(), tenant_id,
                 collection, doc_id),
            )
        return StoredDocument(doc_id, body, etag)

    def batch(self, tenant_id: str, operations: list[BatchOperation]) -> list[str]:
        etags: list[str] = []
        with self._transaction() as conn:
            now = time.time()
            for index, op in enumerate(operations):
                row = self._current(conn, tenant_id, op.collection, op.doc_id, now)
                if op.kind == "create" and row is not None:
                    raise BatchError(f"{op.collection}/{op.doc_id} already exists", index)
                if op.kind in ("replace", "delete") and (row is None or (op.if_match and row[1] != op.if_match)):
                    raise BatchError(f"{op.collection}/{op.doc_id} is missing or changed", index)
                if op.kind == "delete":
                    conn.execute("DELETE FROM documents WHERE tenant_id=? AND collection=? AND id=?",
                                 (tenant_id, op.collection, op.doc_id))
                    etags.append("")
                    continue
                etag = uuid.uuid4().hex
                conn.execute(
                    "INSERT OR REPLACE INTO documents VALUES (?,?,?,?,?,?,?)",
                    (tenant_id, op.collection, op.doc_id,
                     json.dumps(op.body or {}, ensure_ascii=False, separators=(",", ":")), etag, now,
                     now + op.ttl_seconds if op.ttl_seconds else None),
                )
                etags.append(etag)
        return etags
