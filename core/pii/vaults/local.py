"""Embedded encrypted vault: SQLite under DATA_DIR, each map sealed with AES-256-GCM by a local key file.

The key file is created on first use with 0600 permissions (never logged, never committed: DATA_DIR is ignored).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

from .crypto import new_key, open_sealed, seal
from .port import MappingRecord, VaultError, mapping_name

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pii_maps (
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    sealed BLOB NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (tenant_id, name)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pii_maps_expiry ON pii_maps (expires_at);
"""


def load_or_create_key(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes()
        if len(key) != 32:
            raise VaultError(f"{path.name}: not a 256-bit key") from None
        return key
    key = new_key()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


class LocalVault:
    def __init__(self, db_path: Path | str, key_path: Path | str):
        self.db_path = str(db_path)
        if self.db_path != ":memory:":
            Path(self.db_path).parent.mkdir(parents=True, exist_ok=True)
        self._key = load_or_create_key(Path(key_path))
        self._local = threading.local()
        self._connect().executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.db_path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    @staticmethod
    def _aad(tenant_id: str, name: str) -> bytes:
        return f"{tenant_id}\x1f{name}".encode()

    def load(self, tenant_id: str, conversation_id: str) -> MappingRecord | None:
        name = mapping_name(tenant_id, conversation_id)
        row = self._connect().execute("SELECT sealed, expires_at FROM pii_maps WHERE tenant_id=? AND name=?",
                                      (tenant_id, name)).fetchone()
        if row is None or row[1] <= datetime.now(UTC).timestamp():
            return None
        return MappingRecord.from_bytes(open_sealed(self._key, row[0], self._aad(tenant_id, name)))

    def save(self, tenant_id: str, conversation_id: str, record: MappingRecord) -> None:
        name = mapping_name(tenant_id, conversation_id)
        sealed = seal(self._key, record.to_bytes(), self._aad(tenant_id, name))
        conn = self._connect()
        conn.execute("INSERT INTO pii_maps (tenant_id, name, sealed, expires_at) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT (tenant_id, name) DO UPDATE SET sealed=excluded.sealed, "
                     "expires_at=excluded.expires_at", (tenant_id, name, sealed, record.expires_at.timestamp()))

    def delete(self, tenant_id: str, conversation_id: str) -> None:
        self._connect().execute("DELETE FROM pii_maps WHERE tenant_id=? AND name=?",
                                (tenant_id, mapping_name(tenant_id, conversation_id)))

    def purge_expired(self) -> int:
        cursor = self._connect().execute("DELETE FROM pii_maps WHERE expires_at <= ?",
                                         (datetime.now(UTC).timestamp(),))
        return cursor.rowcount
