"""Nightly exports: Parquet partitioned by date with tokenized ids and no text, JSONL.gz archives, retention."""

from __future__ import annotations

import gzip
import io
import json
from datetime import date

import pyarrow.parquet as pq

from core.exports import export_tenant, tokenize
from core.stores.memory_store import MemoryBlobStore, MemoryDocumentStore

KEY = b"k" * 32


def conversation(cid, day, email="grace.liu@example.com", updated=None):
    return {"tenant_id": "t1", "conversation_id": cid, "customer": {"email": email, "name": "Grace Liu"},
            "slots": {}, "ticket_id": None, "updated_at": updated or f"{day}T10:00:00Z",
            "turns": [{"turn_id": "a", "at": f"{day}T10:00:00Z", "user": "Where is #5001? grace.liu@example.com",
                       "reply": "Shipped", "intent": "order_status", "language": "en", "escalated": False,
                       "answered": True},
                      {"turn_id": "b", "at": "2026-01-09T10:00:00Z", "user": "hi", "reply": "hello",
                       "intent": "general", "language": "en"}]}


def test_parquet_rows_are_tokenized_and_partitioned_by_date():
    store, blobs = MemoryDocumentStore(), MemoryBlobStore()
    store.put("t1", "conversations", "c1", conversation("c1", "2026-01-10"))
    store.put("t1", "conversations", "c2", conversation("c2", "2026-01-10", email="other@example.com"))
    store.put("t2", "conversations", "c3", conversation("c3", "2026-01-10"))
    report = export_tenant(store, blobs, "t1", "2026-01-10", retention_days=365, key=KEY, today=date(2026, 1, 11))
    assert report.turns_exported == 2 and report.parquet_path == "analytics/turns/date=2026-01-10/part-0000.parquet"
    data = blobs.get_bytes("t1", report.parquet_path)
    assert data[:4] == b"PAR1"
    rows = pq.read_table(io.BytesIO(data)).to_pylist()
    dumped = json.dumps(rows)
    assert "grace" not in dumped and "5001" not in dumped and "c1" not in [r["conversation"] for r in rows]
    assert {r["customer"] for r in rows} == {tokenize(KEY, "t1", "customer", "grace.liu@example.com"),
                                            tokenize(KEY, "t1", "customer", "other@example.com")}
    assert rows[0]["intent"] == "order_status" and rows[0]["date"] == "2026-01-10"
    # Tokens are per tenant: the same customer in another shop is not linkable.
    assert tokenize(KEY, "t1", "customer", "grace.liu@example.com") != tokenize(KEY, "t2", "customer",
                                                                               "grace.liu@example.com")
    assert blobs.list("t2") == []


def test_archive_is_jsonl_gz_of_the_days_conversations():
    store, blobs = MemoryDocumentStore(), MemoryBlobStore()
    store.put("t1", "conversations", "c1", conversation("c1", "2026-01-10"))
    report = export_tenant(store, blobs, "t1", "2026-01-10", retention_days=365, key=KEY, today=date(2026, 1, 11))
    lines = gzip.decompress(blobs.get_bytes("t1", report.archive_path)).decode().splitlines()
    assert [json.loads(line)["conversation_id"] for line in lines] == ["c1"]


def test_retention_deletes_old_exports_archives_and_conversations():
    store, blobs = MemoryDocumentStore(), MemoryBlobStore()
    store.put("t1", "conversations", "old", conversation("old", "2025-06-01"))
    store.put("t1", "conversations", "new", conversation("new", "2026-01-10"))
    export_tenant(store, blobs, "t1", "2025-06-01", retention_days=30, key=KEY, today=date(2025, 6, 2))
    assert len(blobs.list("t1")) == 2
    report = export_tenant(store, blobs, "t1", "2026-01-10", retention_days=30, key=KEY, today=date(2026, 1, 11))
    assert report.blobs_deleted == 2 and report.conversations_deleted == 1
    assert [b.name for b in blobs.list("t1")] == ["analytics/turns/date=2026-01-10/part-0000.parquet",
                                                  "archive/conversations/date=2026-01-10/conversations.jsonl.gz"]
    assert store.get("t1", "conversations", "old") is None and store.get("t1", "conversations", "new")


def test_an_empty_day_still_writes_a_readable_partition():
    from core.stores.parquet_sink import ParquetBlobSink

    blobs = MemoryBlobStore()
    report = export_tenant(MemoryDocumentStore(), blobs, "t1", "2026-01-10", retention_days=30, key=KEY)
    assert report.turns_exported == 0 and report.archive_path is None
    assert ParquetBlobSink(blobs).read("t1", "turns", "2026-01-10") == []
