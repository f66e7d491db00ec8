"""Knowledge ingestion: a queue trigger consuming Event Grid blob events for the knowledge container.

BlobCreated re-indexes only that document; BlobDeleted removes it (see core/rag/ingest.py).
"""

from __future__ import annotations

import logging

import azure.functions as func

from core.rag.blob_events import BlobEventError, parse_blob_events
from core.rag.blob_store import KnowledgeBlobs
from core.rag.documents import DocumentError
from core.rag.ingest import apply_blob_event
from core.services import get_services
from core.tenants import get_tenant

bp = func.Blueprint()
log = logging.getLogger("shopdesk.knowledge")
_blobs: KnowledgeBlobs | None = None


def _knowledge_blobs(settings) -> KnowledgeBlobs:
    global _blobs
    if _blobs is None:
        _blobs = KnowledgeBlobs.from_settings(settings)
    return _blobs


@bp.queue_trigger(arg_name="msg", queue_name="%KNOWLEDGE_EVENTS_QUEUE_NAME%", connection="AzureWebJobsStorage")
def knowledge_blob_events(msg: func.QueueMessage) -> None:
    try:
        events = parse_blob_events(msg.get_body())
    except BlobEventError as exc:
        # Never succeeds on retry: raise so the host moves it to the poison queue (content not logged).
        log.error("knowledge event rejected: %s (message id %s)", exc, msg.id)
        raise
    services = get_services()
    blobs = _knowledge_blobs(services.settings)
    for event in events:
        try:
            result = apply_blob_event(event, tenant=get_tenant(event.tenant_id, services.store),
                                      read_blob=blobs.read, store=services.store,
                                      knowledge=services.knowledge,
                                      container=services.settings.KNOWLEDGE_BLOB_CONTAINER)
        except DocumentError as exc:
            log.error("knowledge blob rejected tenant=%s blob=%s: %s", event.tenant_id, event.path, exc)
            raise
        log.info("knowledge blob %s tenant=%s blob=%s documents=%s removed=%s", result.action, result.tenant_id,
                 event.path, len(result.documents), len(result.removed))
