"""Event Grid / CloudEvents blob events as they arrive on the knowledge queue."""

from __future__ import annotations

import json

import pytest

from core.rag.blob_events import BlobEventError, blob_event, parse_blob_events
from core.rag.ingest import documents_from_blob, is_knowledge_blob


def test_event_grid_schema_created_and_deleted():
    created = blob_event("created", "knowledge", "demo/articles/faq.md", event_id="e1")
    (event,) = parse_blob_events(json.dumps(created).encode())
    assert (event.action, event.container, event.tenant_id, event.path, event.event_id) == (
        "created", "knowledge", "demo", "articles/faq.md", "e1")
    deleted = blob_event("deleted", "knowledge", "demo/articles/faq.md")
    assert parse_blob_events(json.dumps([deleted, created]))[0].action == "deleted"


def test_cloudevents_schema_and_url_fallback():
    cloud = {"specversion": "1.0", "type": "Microsoft.Storage.BlobCreated", "id": "c1",
             "source": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct",
             "subject": "/blobServices/default/containers/knowledge/blobs/northwind-tea/guides/brew%20guide.md",
             "data": {"api": "PutBlob", "url": "https://acct.blob.core.windows.net/knowledge/northwind-tea/x.md"}}
    assert parse_blob_events(json.dumps(cloud))[0].tenant_id == "northwind-tea"
    no_subject = {"eventType": "Microsoft.Storage.BlobDeleted", "id": "d",
                  "data": {"url": "https://acct.blob.core.windows.net/knowledge/demo/a%20b.md"}}
    assert parse_blob_events(json.dumps(no_subject))[0].path == "a b.md"


def test_other_events_are_skipped_and_bad_ones_rejected():
    tier = {"eventType": "Microsoft.Storage.BlobTierChanged", "subject": "/blobServices/default/containers/k/blobs/a/b"}
    assert parse_blob_events(json.dumps(tier)) == []
    with pytest.raises(BlobEventError, match="tenant id prefix"):
        parse_blob_events(json.dumps(blob_event("created", "knowledge", "Not A Tenant/x.md")))
    with pytest.raises(BlobEventError, match="tenant id prefix"):
        parse_blob_events(json.dumps(blob_event("created", "knowledge", "file-at-root.md")))
    with pytest.raises(BlobEventError, match="not JSON"):
        parse_blob_events(b"\xff\xfe")


def test_blob_contents_become_documents_tagged_with_their_blob():
    docs = documents_from_blob("faq/many.json", json.dumps({"documents": [
        {"id": "q1", "title": "Hours", "body": "9 to 5"}, {"title": "Parking", "content": "Free"}]}).encode(),
        currency="CAD", shop_url=None)
    assert [d.id for d in docs] == ["q1", "many-1"] and {d.source for d in docs} == {"blob:faq/many.json"}
    products = documents_from_blob("products.json", json.dumps({"products": [
        {"id": 1, "title": "Mug", "handle": "mug", "variants": [{"title": "Blue", "price": "9.00"}]}]}).encode(),
        currency="EUR", shop_url="https://shop.example")
    assert products[0].id == "product-mug" and "9.00 EUR" in products[0].content
    assert is_knowledge_blob("articles/a.md") and is_knowledge_blob("products.json")
    assert not is_knowledge_blob("orders.json") and not is_knowledge_blob("img/logo.png")
    assert not is_knowledge_blob(".vectors/x.npz") and not is_knowledge_blob("README.md")
