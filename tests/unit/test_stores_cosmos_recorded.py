"""Cosmos DB behaviour the local emulator lacks, through the SDK's own HTTP pipeline on recorded responses.

An azure-core ``HttpTransport`` replays metadata recorded from cosmosdb-server and service responses in the
documented wire format (tests/fixtures/recorded/cosmos/): transactional batch success and 207 failure, a 404 for a
missing item (the emulator answers 500), and 429 throttling honoured through ``x-ms-retry-after-ms``.
"""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from azure.core.pipeline.transport import HttpResponse

from core.stores.cosmos_store import CosmosDocumentStore
from core.stores.ports import BatchError, BatchOperation
from tests.fixtures.wire import InMemoryTransport

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "recorded" / "cosmos"
META = json.loads((RECORDED / "metadata.json").read_text())


def recorded(name: str) -> dict:
    return json.loads((RECORDED / f"{name}.json").read_text())


class _Response(HttpResponse):
    def __init__(self, request, status: int, headers: dict, body):
        super().__init__(request, None)
        self.status_code = status
        self.headers = {"content-type": "application/json", **headers}
        self.reason = "recorded"
        self.content_type = "application/json"
        self._body = json.dumps(body).encode()

    def body(self) -> bytes:
        return self._body


class RecordedTransport(InMemoryTransport):
    """Serves account and container metadata, then the scripted responses in order; records every request."""

    def __init__(self, *scripted: dict):
        self.script = deque(scripted)
        self.requests: list = []

    def send(self, request, **kwargs):
        path = unquote(urlsplit(request.url).path).rstrip("/")
        if request.method == "GET" and path == "":
            return _Response(request, 200, {}, META["account"])
        if request.method == "GET" and path == "/dbs/shopdesk/colls/documents":
            return _Response(request, 200, {"etag": META["container"]["_etag"]}, META["container"])
        self.requests.append(request)
        step = self.script.popleft()
        return _Response(request, step["status"], step.get("headers", {}), step["body"])


def store_with(*scripted: dict) -> tuple[CosmosDocumentStore, RecordedTransport]:
    transport = RecordedTransport(*scripted)
    store = CosmosDocumentStore.connect(META["account"]["writableLocations"][0]["databaseAccountEndpoint"],
                                        key="a2V5", create=False, transport=transport)
    return store, transport


def test_transactional_batch_sends_one_atomic_request_in_the_tenant_partition():
    store, transport = store_with(recorded("batch_ok"))
    etags = store.batch("demo", [
        BatchOperation("replace", "inventory", "44103867736606", {"available": 9, "reserved": 1},
                       if_match='"0000d985-0000-0d00-0000-66f1c2a00000"'),
        BatchOperation("create", "reservations", "r-1", {"qty": 1}),
    ])
    assert etags == ['"0000d986-0000-0d00-0000-66f1c2a10000"', '"0000d987-0000-0d00-0000-66f1c2a10000"']
    (request,) = transport.requests
    assert request.method == "POST" and urlsplit(request.url).path.rstrip("/") == "/dbs/shopdesk/colls/documents/docs"
    assert request.headers["x-ms-cosmos-is-batch-request"] == "True"
    assert json.loads(request.headers["x-ms-documentdb-partitionkey"]) == ["demo"]
    ops = json.loads(request.body)
    assert [o["operationType"] for o in ops] == ["Replace", "Create"]
    assert ops[0]["ifMatch"] == '"0000d985-0000-0d00-0000-66f1c2a00000"'
    assert ops[0]["id"] == "inventory|44103867736606" and ops[0]["resourceBody"]["tenantId"] == "demo"
    assert ops[1]["resourceBody"]["body"] == {"qty": 1} and ops[1]["resourceBody"]["docId"] == "r-1"


def test_failed_batch_raises_batch_error_naming_the_operation():
    store, _ = store_with(recorded("batch_precondition_failed"))
    with pytest.raises(BatchError) as failed:
        store.batch("demo", [BatchOperation("replace", "inventory", "44103867736606", {"available": 0},
                                            if_match='"stale"'),
                             BatchOperation("create", "reservations", "r-2", {"qty": 1})])
    assert failed.value.index == 0 and "inventory/44103867736606" in str(failed.value) and "412" in str(failed.value)


def test_missing_item_404_is_none_without_a_fallback_query():
    store, transport = store_with(recorded("read_not_found"))
    assert store.get("demo", "orders", "9999") is None
    assert len(transport.requests) == 1 and transport.requests[0].method == "GET"
    assert unquote(urlsplit(transport.requests[0].url).path).rstrip("/").endswith("/docs/orders|9999")


def test_throttling_is_retried_after_the_services_delay():
    item = {"id": "orders|1001", "tenantId": "demo", "collection": "orders", "docId": "1001",
            "body": {"order_number": 1001}, "expiresAt": None, "_etag": '"e1"'}
    store, transport = store_with(recorded("throttled"), {"status": 200, "headers": {"etag": '"e1"'}, "body": item})
    got = store.get("demo", "orders", "1001")
    assert got is not None and got.body == {"order_number": 1001} and got.etag == '"e1"'
    assert len(transport.requests) == 2  # the 429 and its retry


def test_ttl_is_sent_as_whole_seconds():
    saved = {"id": "carts|c1", "tenantId": "demo", "collection": "carts", "docId": "c1", "body": {},
             "_etag": '"e2"'}
    store, transport = store_with({"status": 200, "headers": {"etag": '"e2"'}, "body": saved})
    assert store.put("demo", "carts", "c1", {}, ttl_seconds=90) == '"e2"'
    sent = json.loads(transport.requests[0].body)
    assert sent["ttl"] == 91 and sent["tenantId"] == "demo" and sent["expiresAt"] > 0
