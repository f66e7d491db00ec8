"""Onboarding from the knowledge container on Azurite: POST /api/operator/tenants/{tenant}/import with
{"blob_prefix": ...} imports the tenant folder stored under that prefix, and only under the tenant's own prefix."""

from __future__ import annotations

import json
import uuid

import pytest
from azure.core.exceptions import ResourceNotFoundError

from blueprints import knowledge as knowledge_bp
from core.rag.blob_store import KnowledgeBlobs
from core.tenants import get_tenant
from tests.unit.test_tenant_onboarding import ARTICLE, ORDERS, TENANT_JSON, call

pytestmark = pytest.mark.integration


@pytest.fixture
def blobs(services, storage_connection, monkeypatch):
    settings = services.settings.model_copy(update={"AzureWebJobsStorage": storage_connection,
                                                    "KNOWLEDGE_BLOB_CONTAINER": f"kb-{uuid.uuid4().hex[:10]}"})
    monkeypatch.setattr(services, "settings", settings)
    store = KnowledgeBlobs.from_settings(settings)
    monkeypatch.setattr(knowledge_bp, "_blobs", store)
    yield store
    try:
        store._container.delete_container()
    except ResourceNotFoundError:  # nothing was uploaded
        pass


def test_a_tenant_folder_in_the_knowledge_container_is_imported(services, functions, blobs):
    for name, content in {"tenant.json": TENANT_JSON, "articles/shipping.md": ARTICLE, "orders.json": ORDERS,
                          "customers.json": {"customers": [{"id": 7, "email": "a@example.com"}]}}.items():
        blobs.upload(f"velo/{name}", content.encode() if isinstance(content, str) else json.dumps(content).encode())
    blobs.upload("other/tenant.json", json.dumps({"id": "other", "name": "Other"}).encode())
    status, report, _ = call(functions, "velo", b'{"blob_prefix": "velo/"}', content_type="application/json")
    assert status == 201, report
    assert (report["documents"], report["orders"], report["customers"]) == (1, 2, 1)
    assert get_tenant("velo", services.store).name == "Vélo Rapide" and get_tenant("other", services.store) is None


def test_an_empty_prefix_is_refused_naming_it(services, functions, blobs):
    status, body, mimetype = call(functions, "velo", b'{"blob_prefix": "velo/none"}', content_type="application/json")
    assert (status, mimetype) == (422, "application/problem+json")
    assert body["errors"][0]["field"] == "blob_prefix"
