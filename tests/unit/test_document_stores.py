"""One contract for every DocumentStore adapter."""

import threading
import time

import pytest

from core.stores.memory_store import MemoryDocumentStore
from core.stores.ports import ConcurrencyError
from core.stores.sqlite_store import SqliteDocumentStore


@pytest.fixture(params=["memory", "sqlite"])
def store(request, tmp_path):
    return MemoryDocumentStore() if request.param == "memory" else SqliteDocumentStore(tmp_path / "docs.sqlite")


def test_put_get_roundtrip_is_tenant_scoped(store):
    etag = store.put("t1", "orders", "1001", {"total": "12.00"})
    got = store.get("t1", "orders", "1001")
    assert got.body == {"total": "12.00"} and got.etag == etag
    assert store.get("t2", "orders", "1001") is None
    assert store.list("t2", "orders") == []


def test_if_match_rejects_stale_writes(store):
    first = store.put("t1", "c", "x", {"v": 1})
    store.put("t1", "c", "x", {"v": 2}, if_match=first)
    with pytest.raises(ConcurrencyError):
        store.put("t1", "c", "x", {"v": 3}, if_match=first)
    assert store.get("t1", "c", "x").body == {"v": 2}


def test_if_none_match_creates_once(store):
    store.put("t1", "c", "x", {"v": 1}, if_none_match=True)
    with pytest.raises(ConcurrencyError):
        store.put("t1", "c", "x", {"v": 2}, if_none_match=True)


def test_list_prefix_count_delete(store):
    for i in range(5):
        store.put("t1", "c", f"a-{i}", {"i": i})
    store.put("t1", "c", "b-0", {"i": 9})
    assert [d.id for d in store.list("t1", "c", prefix="a-")] == [f"a-{i}" for i in range(5)]
    assert store.count("t1", "c") == 6
    assert store.delete("t1", "c", "b-0") and not store.delete("t1", "c", "b-0")
    assert store.count("t1", "c") == 5


def test_ttl_expires(store):
    store.put("t1", "c", "x", {"v": 1}, ttl_seconds=1)
    assert store.get("t1", "c", "x") is not None
    time.sleep(1.1)
    assert store.get("t1", "c", "x") is None


def test_concurrent_if_match_increments_are_not_lost(store):
    store.put("t1", "c", "counter", {"n": 0})

    def bump():
        for _ in range(20):
            while True:
                current = store.get("t1", "c", "counter")
                try:
                    store.put("t1", "c", "counter", {"n": current.body["n"] + 1}, if_match=current.etag)
                    break
                except ConcurrencyError:
                    continue

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.get("t1", "c", "counter").body["n"] == 80


def test_sqlite_survives_reopen(tmp_path):
    SqliteDocumentStore(tmp_path / "d.sqlite").put("t1", "c", "x", {"v": 1})
    assert SqliteDocumentStore(tmp_path / "d.sqlite").get("t1", "c", "x").body == {"v": 1}
