"""Blob ingestion end to end on Azurite: upload a document blob and enqueue its Event Grid event, let the
queue-triggered function (blueprints/knowledge.py) index it, then overwrite and delete it — for one tenant only."""

from __future__ import annotations

import base64
import json
import uuid

import azure.functions as func
import pytest
from azure.functions.queue import QueueMessage
from azure.storage.queue import QueueClient

from blueprints import knowledge as knowledge_bp
from core.rag.blob_events import parse_blob_events
from core.rag.blob_store import KnowledgeBlobs

pytestmark = pytest.mark.integration

DOC_V1 = """---
title: Holiday gift boxes
---
# Holiday gift boxes

Our winter gift box holds three soaps and a cedar dish for 49 dollars, available until December 15.
"""
DOC_V2 = DOC_V1.replace("49 dollars", "55 dollars").replace("December 15", "December 20")


@pytest.fixture
def knowledge_env(services, storage_connection, monkeypatch):
    container, queue_name = f"kb-{uuid.uuid4().hex[:10]}", f"kbev-{uuid.uuid4().hex[:10]}"
    settings = services.settings.model_copy(update={"AzureWebJobsStorage": storage_connection,
                                                    "KNOWLEDGE_BLOB_CONTAINER": container,
                                                    "KNOWLEDGE_EVENTS_QUEUE_NAME": queue_name})
    monkeypatch.setattr(services, "settings", settings)
    blobs = KnowledgeBlobs.from_settings(settings)
    monkeypatch.setattr(knowledge_bp, "_blobs", blobs)
    queue = QueueClient.from_connection_string(storage_connection, queue_name)
    yield blobs, queue
    blobs._container.delete_container()
    queue.delete_queue()


def _deliver(queue: QueueClient) -> int:
    """What the Functions host does: receive, base64-decode, call the queue function, delete."""
    handled = 0
    for message in queue.receive_messages(max_messages=32, visibility_timeout=30):
        body = base64.b64decode(message.content)
        knowledge_bp.knowledge_blob_events(QueueMessage(id=message.id, body=body,
                                                        dequeue_count=message.dequeue_count))
        queue.delete_message(message)
        handled += 1
    return handled


def test_blob_created_overwritten_and_deleted(services, knowledge_env):
    blobs, queue = knowledge_env
    question = "How much is the winter gift box?"
    threshold = services.settings.KNOWLEDGE_MIN_SCORE

    blobs.upload("demo/articles/holiday-boxes.md", DOC_V1.encode())
    event = blobs.notify("created", "demo/articles/holiday-boxes.md")
    assert parse_blob_events(json.dumps(event))[0].tenant_id == "demo"
    assert _deliver(queue) == 1
    hit = services.knowledge.search("demo", question)[0]
    assert hit.doc_id == "holiday-boxes" and "49 dollars" in hit.passage and hit.score >= threshold
    assert "holiday-boxes" not in [h.doc_id for h in services.knowledge.search("northwind-tea", question, k=10)]
    untouched = services.knowledge.index.document_hashes("demo")

    blobs.upload("demo/articles/holiday-boxes.md", DOC_V2.encode())
    blobs.notify("created", "demo/articles/holiday-boxes.md")
    assert _deliver(queue) == 1
    hit = services.knowledge.search("demo", question)[0]
    assert hit.doc_id == "holiday-boxes" and "55 dollars" in hit.passage
    after = services.knowledge.index.document_hashes("demo")
    # Only that document was re-indexed.
    assert {d for d in after if after[d] != untouched.get(d)} == {"holiday-boxes"}

    blobs.delete("demo/articles/holiday-boxes.md")
    blobs.notify("deleted", "demo/articles/holiday-boxes.md")
    assert _deliver(queue) == 1
    assert "holiday-boxes" not in [h.doc_id for h in services.knowledge.search("demo", question, k=10)]
    assert services.store.get("demo", "kb", "holiday-boxes") is None
    assert len(services.knowledge.index.document_hashes("demo")) == len(untouched) - 1


def test_a_late_created_event_for_a_deleted_blob_removes_it(services, knowledge_env):
    blobs, queue = knowledge_env
    blobs.upload("northwind-tea/faq/gongfu.md", b"# Gongfu tasting\n\nSaturday gongfu tastings cost 15 dollars.")
    blobs.notify("created", "northwind-tea/faq/gongfu.md")
    assert _deliver(queue) == 1
    assert services.knowledge.search("northwind-tea", "gongfu tasting price")[0].doc_id == "gongfu"
    blobs.delete("northwind-tea/faq/gongfu.md")
    blobs.notify("created", "northwind-tea/faq/gongfu.md")  # replayed / out-of-order event
    assert _deliver(queue) == 1
    assert "gongfu" not in [h.doc_id for h in services.knowledge.search("northwind-tea", "gongfu tasting price", k=10)]


def test_a_blob_for_an_unknown_tenant_or_a_bad_message_is_rejected(services, knowledge_env):
    blobs, queue = knowledge_env
    blobs.upload("nobody/doc.md", b"# Hello\n\nworld")
    blobs.notify("created", "nobody/doc.md")
    (message,) = queue.receive_messages(max_messages=1)
    with pytest.raises(LookupError, match="not onboarded"):
        knowledge_bp.knowledge_blob_events(func.QueueMessage(id=message.id, body=base64.b64decode(message.content)))
    with pytest.raises(ValueError, match="not JSON"):
        knowledge_bp.knowledge_blob_events(func.QueueMessage(id="x", body=b"{not json"))
