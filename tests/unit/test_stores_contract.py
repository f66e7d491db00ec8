"""One contract for every store adapter. Emulator-backed adapters reuse these classes from tests/integration.

Each test uses its own tenant id, so adapters whose backing service is shared across tests stay isolated.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from core.stores.memory_store import MemoryBlobStore, MemoryDocumentStore
from core.stores.ports import BatchError, BatchOperation, ConcurrencyError
from core.stores.sqlite_store import SqliteDocumentStore

REPO = Path(__file__).resolve().parents[2]

def _fresh_tenant(self) -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


class DocumentStoreContract:
    """Subclasses provide a ``store`` fixture."""

    tenant = pytest.fixture(_fresh_tenant)

    def test_put_get_roundtrip_is_tenant_scoped(self, store, tenant):
        etag = store.put(tenant, "orders", "1001", {"total": "12.00", "note": "crème brûlée ✓"})
        got = store.get(tenant, "orders", "1001")
        assert got.body == {"total": "12.00", "note": "crème brûlée ✓"} and got.etag == etag and got.id == "1001"
        assert store.get(tenant + "-other", "orders", "1001") is None
        assert store.get(tenant, "customers", "1001") is None
        assert store.list(tenant + "-other", "orders") == []

    def test_missing_document_is_none(self, store, tenant):
        assert store.get(tenant, "orders", "does-not-exist") is None

    def test_bodies_keep_fields_named_like_system_fields(self, store, tenant):
        body = {"id": 5590401162613, "ttl": 3, "_etag": "x", "tenantId": "someone-else", "nested": {"a": [1, 2]}}
        store.put(tenant, "orders", "5001", body)
        assert store.get(tenant, "orders", "5001").body == body

    def test_ids_with_reserved_characters(self, store, tenant):
        for doc_id in ("a/b", "what?", "#1001", "a b", "é-ü"):
            store.put(tenant, "c", doc_id, {"id": doc_id})
        assert {d.id for d in store.list(tenant, "c")} == {"a/b", "what?", "#1001", "a b", "é-ü"}
        assert store.get(tenant, "c", "a/b").body == {"id": "a/b"}

    def test_if_match_rejects_stale_writes(self, store, tenant):
        first = store.put(tenant, "c", "x", {"v": 1})
        second = store.put(tenant, "c", "x", {"v": 2}, if_match=first)
        assert second != first
        with pytest.raises(ConcurrencyError):
            store.put(tenant, "c", "x", {"v": 3}, if_match=first)
        assert store.get(tenant, "c", "x").body == {"v": 2}

    def test_if_match_on_missing_document_fails(self, store, tenant):
        with pytest.raises(ConcurrencyError):
            store.put(tenant, "c", "ghost", {"v": 1}, if_match="some-etag")

    def test_if_none_match_creates_once(self, store, tenant):
        store.put(tenant, "c", "x", {"v": 1}, if_none_match=True)
        with pytest.raises(ConcurrencyError):
            store.put(tenant, "c", "x", {"v": 2}, if_none_match=True)
        assert store.get(tenant, "c", "x").body == {"v": 1}

    def test_list_prefix_order_limit_count_delete(self, store, tenant):
        for i in (3, 0, 4, 1, 2):
            store.put(tenant, "c", f"a-{i}", {"i": i})
        store.put(tenant, "c", "b-0", {"i": 9})
        store.put(tenant, "other", "a-9", {"i": 9})
        assert [d.id for d in store.list(tenant, "c", prefix="a-")] == [f"a-{i}" for i in range(5)]
        assert [d.id for d in store.list(tenant, "c", limit=2)] == ["a-0", "a-1"]
        assert store.count(tenant, "c") == 6
        assert store.delete(tenant, "c", "b-0") and not store.delete(tenant, "c", "b-0")
        assert store.count(tenant, "c") == 5 and store.get(tenant, "c", "b-0") is None

    def test_ttl_expires_and_frees_the_id(self, store, tenant):
        store.put(tenant, "c", "x", {"v": 1}, ttl_seconds=1)
        store.put(tenant, "c", "keep", {"v": 2})
        assert store.get(tenant, "c", "x") is not None and store.count(tenant, "c") == 2
        time.sleep(1.1)
        assert store.get(tenant, "c", "x") is None
        assert [d.id for d in store.list(tenant, "c")] == ["keep"] and store.count(tenant, "c") == 1
        store.put(tenant, "c", "x", {"v": 3}, if_none_match=True)  # an expired document no longer exists
        assert store.get(tenant, "c", "x").body == {"v": 3}

    def test_patch_set_incr_remove_and_etag(self, store, tenant):
        etag = store.put(tenant, "inventory", "v1", {"available": 10, "status": "open", "tmp": 1, "log": []})
        doc = store.patch(tenant, "inventory", "v1", [
            {"op": "incr", "path": "/available", "value": -3},
            {"op": "set", "path": "/status", "value": "held"},
            {"op": "remove", "path": "/tmp"},
            {"op": "add", "path": "/log/-", "value": "r1"},
        ], if_match=etag)
        assert doc.body == {"available": 7, "status": "held", "log": ["r1"]} and doc.etag != etag
        assert store.get(tenant, "inventory", "v1").body == doc.body
        with pytest.raises(ConcurrencyError):
            store.patch(tenant, "inventory", "v1", [{"op": "incr", "path": "/available", "value": -1}], if_match=etag)
        with pytest.raises(KeyError):
            store.patch(tenant, "inventory", "ghost", [{"op": "set", "path": "/a", "value": 1}])

    def test_batch_is_all_or_nothing(self, store, tenant):
        etag = store.put(tenant, "inventory", "v1", {"available": 2})
        etags = store.batch(tenant, [
            BatchOperation("replace", "inventory", "v1", {"available": 1}, if_match=etag),
            BatchOperation("create", "reservations", "r1", {"qty": 1}),
        ])
        assert len(etags) == 2 and store.get(tenant, "inventory", "v1").etag == etags[0]
        with pytest.raises(BatchError) as failed:
            store.batch(tenant, [
                BatchOperation("replace", "inventory", "v1", {"available": 0}, if_match=etags[0]),
                BatchOperation("create", "reservations", "r1", {"qty": 1}),  # duplicate: rolls back the replace
            ])
        assert failed.value.index == 1 and isinstance(failed.value, ConcurrencyError)
        assert store.get(tenant, "inventory", "v1").body == {"available": 1}
        with pytest.raises(BatchError):
            store.batch(tenant, [BatchOperation("replace", "inventory", "v1", {"available": 0}, if_match=etag)])
        store.batch(tenant, [BatchOperation("delete", "reservations", "r1"),
                             BatchOperation("upsert", "inventory", "v1", {"available": 2})])
        assert store.get(tenant, "reservations", "r1") is None
        assert store.get(tenant, "inventory", "v1").body == {"available": 2}

    def test_concurrent_if_match_increments_are_not_lost(self, store, tenant):
        store.put(tenant, "c", "counter", {"n": 0})

        def bump():
            for _ in range(10):
                while True:
                    current = store.get(tenant, "c", "counter")
                    try:
                        store.put(tenant, "c", "counter", {"n": current.body["n"] + 1}, if_match=current.etag)
                        break
                    except ConcurrencyError:
                        continue

        threads = [threading.Thread(target=bump) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert store.get(tenant, "c", "counter").body["n"] == 40


class TestMemoryDocumentStore(DocumentStoreContract):
    @pytest.fixture
    def store(self):
        return MemoryDocumentStore()


class TestSqliteDocumentStore(DocumentStoreContract):
    @pytest.fixture
    def store(self, tmp_path):
        return SqliteDocumentStore(tmp_path / "docs.sqlite")

    def test_survives_reopen(self, tmp_path, tenant):
        etag = SqliteDocumentStore(tmp_path / "d.sqlite").put(tenant, "c", "x", {"v": 1})
        reopened = SqliteDocumentStore(tmp_path / "d.sqlite").get(tenant, "c", "x")
        assert reopened.body == {"v": 1} and reopened.etag == etag

    def test_two_processes_share_one_database(self, tmp_path, tenant):
        """ETag checks hold across processes (BEGIN IMMEDIATE), not only across threads of one process."""
        path = tmp_path / "shared.sqlite"
        store = SqliteDocumentStore(path)
        etag = store.put(tenant, "c", "x", {"v": 1})
        code = ("import sys; from core.stores.sqlite_store import SqliteDocumentStore as S; "
                f"S(sys.argv[1]).put({tenant!r}, 'c', 'x', {{'v': 2}}, if_match={etag!r})")
        subprocess.run([sys.executable, "-c", code, str(path)], check=True, cwd=REPO)
        with pytest.raises(ConcurrencyError):
            store.put(tenant, "c", "x", {"v": 3}, if_match=etag)
        assert store.get(tenant, "c", "x").body == {"v": 2}


class BlobStoreContract:
    """Subclasses provide a ``blobs`` fixture."""

    tenant = pytest.fixture(_fresh_tenant)

    def test_put_get_list_delete_are_tenant_scoped(self, blobs, tenant):
        blobs.put_bytes(tenant, "exports/date=2026-01-01/a.parquet", b"\x00\x01", metadata={"rows": "2"})
        blobs.put_bytes(tenant, "exports/date=2026-01-02/a.parquet", b"abc")
        blobs.put_bytes(tenant + "-x", "exports/date=2026-01-01/a.parquet", b"other")
        assert blobs.get_bytes(tenant, "exports/date=2026-01-01/a.parquet") == b"\x00\x01"
        listed = blobs.list(tenant, "exports/")
        assert [b.name for b in listed] == ["exports/date=2026-01-01/a.parquet", "exports/date=2026-01-02/a.parquet"]
        assert listed[0].size == 2 and listed[0].metadata.get("rows") == "2"
        assert blobs.delete(tenant, "exports/date=2026-01-01/a.parquet")
        assert not blobs.delete(tenant, "exports/date=2026-01-01/a.parquet")
        assert blobs.get_bytes(tenant, "exports/date=2026-01-01/a.parquet") is None
        assert blobs.get_bytes(tenant + "-x", "exports/date=2026-01-01/a.parquet") == b"other"

    def test_create_only(self, blobs, tenant):
        blobs.put_bytes(tenant, "once.txt", b"1", overwrite=False)
        with pytest.raises(ConcurrencyError):
            blobs.put_bytes(tenant, "once.txt", b"2", overwrite=False)
        assert blobs.get_bytes(tenant, "once.txt") == b"1"


class TestMemoryBlobStore(BlobStoreContract):
    @pytest.fixture
    def blobs(self):
        return MemoryBlobStore()
