"""Nightly data engineering: analytics to Parquet partitioned by date, tokenized, and conversation
logs archived as JSONL.gz to Blob storage, under the tenant's retention policy (``retention_days``).

- Analytics rows carry no message text and no raw customer identifiers: conversation and customer ids are
  replaced by HMAC-SHA256 tokens under a per-deployment key (stable across days, so analysts can count returning
  customers, but not reversible without the key).
- Archives keep full transcripts for audit (``archive/conversations/date=…/conversations.jsonl.gz``), with card
  numbers masked to their last four digits as in the conversation store; archives, exports and stored
  conversations older than ``retention_days`` are deleted.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import logging
import os
import secrets
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from core.conversations import masked_document
from core.stores.parquet_sink import ParquetBlobSink
from core.stores.ports import BlobStore, DocumentStore

log = logging.getLogger("shopdesk.exports")
CONVERSATIONS = "conversations"


class ExportReport(BaseModel):
    tenant_id: str
    day: str
    turns_exported: int
    conversations_archived: int
    blobs_deleted: int
    conversations_deleted: int
    parquet_path: str
    archive_path: str | None


def token_key(settings: Any) -> bytes:
    """The HMAC key from the app setting named by EXPORT_TOKEN_KEY_SECRET_NAME; locally one is generated once."""
    value = os.environ.get(settings.EXPORT_TOKEN_KEY_SECRET_NAME, "")
    if value:
        return value.encode()
    path = Path(settings.DATA_DIR) / "export-token.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip().encode()


def tokenize(key: bytes, tenant_id: str, kind: str, value: str | None) -> str | None:
    if not value:
        return None
    digest = hmac.new(key, f"{tenant_id}|{kind}|{value.strip().lower()}".encode(), hashlib.sha256).hexdigest()
    return f"{kind[:4]}_{digest[:32]}"


def _customer_key(conv: dict[str, Any]) -> str | None:
    customer = conv.get("customer") or {}
    return customer.get("id") or customer.get("email") or (conv.get("slots") or {}).get("verified_email")


def turn_rows(conversations: list[dict[str, Any]], tenant_id: str, day: str, key: bytes) -> list[dict[str, Any]]:
    rows = []
    for conv in conversations:
        conv_token = tokenize(key, tenant_id, "conversation", conv.get("conversation_id"))
        customer_token = tokenize(key, tenant_id, "customer", _customer_key(conv))
        for index, turn in enumerate(conv.get("turns") or []):
            if not str(turn.get("at", "")).startswith(day):
                continue
            rows.append({
                "tenant_id": tenant_id, "date": day, "at": turn.get("at"), "conversation": conv_token,
                "customer": customer_token, "turn_index": index, "intent": turn.get("intent"),
                "language": turn.get("language"), "escalated": bool(turn.get("escalated")),
                "answered": bool(turn.get("answered", True)), "user_chars": len(turn.get("user") or ""),
                "reply_chars": len(turn.get("reply") or ""), "has_ticket": bool(conv.get("ticket_id")),
            })
    return rows


def _day_of(path: str) -> str | None:
    for part in path.split("/"):
        if part.startswith("date="):
            return part[5:]
    return None


def export_tenant(store: DocumentStore, blobs: BlobStore, tenant_id: str, day: str, *, retention_days: int,
                  key: bytes, today: date | None = None) -> ExportReport:
    """Export one tenant's day; idempotent (re-running replaces the day's files)."""
    conversations = [d.body for d in store.list(tenant_id, CONVERSATIONS, limit=1_000_000)]
    rows = turn_rows(conversations, tenant_id, day, key)
    parquet_path = ParquetBlobSink(blobs).write(tenant_id, "turns", day, rows)

    touched = [c for c in conversations if any(str(t.get("at", "")).startswith(day) for t in c.get("turns") or [])]
    archive_path = None
    if touched:
        archive_path = f"archive/conversations/date={day}/conversations.jsonl.gz"
        lines = "".join(json.dumps(masked_document(c), ensure_ascii=False, sort_keys=True) + "\n" for c in touched)
        blobs.put_bytes(tenant_id, archive_path, gzip.compress(lines.encode(), mtime=0),
                        content_type="application/gzip", metadata={"conversations": str(len(touched))})

    cutoff = ((today or date.today()) - timedelta(days=retention_days)).isoformat()
    deleted_blobs = 0
    for prefix in ("archive/", "analytics/"):
        for blob in blobs.list(tenant_id, prefix):
            blob_day = _day_of(blob.name)
            if blob_day and blob_day < cutoff and blobs.delete(tenant_id, blob.name):
                deleted_blobs += 1
    deleted_conversations = 0
    for conv in conversations:
        last = str(conv.get("updated_at") or conv.get("created_at") or "")[:10]
        if last and last < cutoff and store.delete(tenant_id, CONVERSATIONS, conv["conversation_id"]):
            deleted_conversations += 1
    log.info("export tenant=%s day=%s turns=%s archived=%s deleted_blobs=%s deleted_conversations=%s", tenant_id,
             day, len(rows), len(touched), deleted_blobs, deleted_conversations)
    return ExportReport(tenant_id=tenant_id, day=day, turns_exported=len(rows), conversations_archived=len(touched),
                        blobs_deleted=deleted_blobs, conversations_deleted=deleted_conversations,
                        parquet_path=parquet_path, archive_path=archive_path)


def blob_store(settings: Any) -> BlobStore:
    from core.stores.blob_store import AzureBlobStore

    return AzureBlobStore.connect(settings.BLOB_CONTAINER, connection_string=settings.AzureWebJobsStorage,
                                  account_url=settings.BLOB_ACCOUNT_URL)


def run_nightly(services: Any, day: str, blobs: BlobStore | None = None) -> list[ExportReport]:
    """Every tenant's export for ``day`` (the timer passes yesterday, UTC)."""
    from core.tenants import list_tenants

    blobs = blobs or blob_store(services.settings)
    key = token_key(services.settings)
    return [export_tenant(services.store, blobs, t.id, day, retention_days=t.retention_days, key=key)
            for t in list_tenants(services.store)]
