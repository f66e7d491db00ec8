"""VectorIndex on Azure Cosmos DB for NoSQL vector search (``VectorDistance``), partitioned by tenant.

One container holds every tenant's chunks (partition key ``/tenantId``; every query names the partition and
filters on it). Each tenant partition also holds an ``_index`` item recording the embedding model id, dimension
and a revision counter. The container's vector embedding policy and indexing policy are declared here as data
(``container_definition``) so the bicep template can declare exactly the same thing (a test compares them).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from .vector_index import ChunkRecord, IndexInfo, base_language, check_tenant, mismatch

PARTITION_KEY_PATH = "/tenantId"
VECTOR_PATH = "/embedding"
INFO_ID = "_index"
REVISION_TTL_SECONDS = 5.0  # how long a search trusts the cached revision before re-reading it


def vector_embedding_policy(dimensions: int) -> dict[str, Any]:
    return {"vectorEmbeddings": [{"path": VECTOR_PATH, "dataType": "float32", "distanceFunction": "cosine",
                                  "dimensions": dimensions}]}


def indexing_policy() -> dict[str, Any]:
    # The vector path is excluded from the range index (it would cost RUs for nothing) and given a DiskANN index.
    return {
        "indexingMode": "consistent",
        "automatic": True,
        "includedPaths": [{"path": "/*"}],
        "excludedPaths": [{"path": '/"_etag"/?'}, {"path": f"{VECTOR_PATH}/*"}, {"path": "/text/?"}],
        "vectorIndexes": [{"path": VECTOR_PATH, "type": "diskANN"}],
    }


def container_definition(name: str = "knowledge-vectors", dimensions: int = 1536) -> dict[str, Any]:
    """The container as bicep declares it (dimensions: 1536 for text-embedding-3-large in Azure)."""
    return {
        "id": name,
        "partitionKey": {"paths": [PARTITION_KEY_PATH], "kind": "Hash", "version": 2},
        "indexingPolicy": indexing_policy(),
        "vectorEmbeddingPolicy": vector_embedding_policy(dimensions),
    }


_FIELDS = ("c.docId, c.position, c.groupId, c.title, c.url, c.lang, c.category, c.text, c.docHash, c.card")


def item_id(doc_id: str, position: int) -> str:
    # Cosmos ids may not contain / \ ? # ; doc ids can.
    return hashlib.sha256(f"{doc_id}\x00{position}".encode()).hexdigest()[:40]


def _record(item: dict[str, Any]) -> ChunkRecord:
    return ChunkRecord(doc_id=item["docId"], position=int(item["position"]), group_id=item["groupId"],
                       title=item["title"], url=item.get("url"), lang=item["lang"], category=item["category"],
                       text=item["text"], doc_hash=item["docHash"], card=bool(item.get("card")))


class CosmosVectorIndex:
    def __init__(self, container: Any):
        """``container``: an ``azure.cosmos.ContainerProxy`` (created with ``container_definition``)."""
        self._container = container
        self._lock = threading.Lock()
        self._revisions: dict[str, tuple[float, str]] = {}
        self._cache: dict[str, tuple[str, list[ChunkRecord], dict[str, np.ndarray]]] = {}

    @classmethod
    def from_settings(cls, settings) -> CosmosVectorIndex:
        from azure.cosmos import CosmosClient

        if not settings.COSMOS_ENDPOINT:
            raise RuntimeError("COSMOS_ENDPOINT must be set for VECTOR_INDEX=cosmos")
        if settings.COSMOS_KEY:
            credential: Any = settings.COSMOS_KEY
        else:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential()
        client = CosmosClient(settings.COSMOS_ENDPOINT, credential=credential)
        database = client.get_database_client(settings.COSMOS_DATABASE)
        return cls(database.get_container_client(settings.KNOWLEDGE_COSMOS_CONTAINER))

    # -- helpers ---------------------------------------------------------------------------------------------------
    def _query(self, tenant_id: str, query: str, **parameters: Any) -> list[dict[str, Any]]:
        params = [{"name": "@tenant", "value": tenant_id}] + [{"name": f"@{k}", "value": v}
                                                               for k, v in parameters.items()]
        return list(self._container.query_items(query=query, parameters=params, partition_key=tenant_id))

    def _info_item(self, tenant_id: str) -> dict[str, Any] | None:
        from azure.cosmos.exceptions import CosmosResourceNotFoundError

        try:
            return self._container.read_item(INFO_ID, partition_key=tenant_id)
        except CosmosResourceNotFoundError:
            return None

    def _bump(self, tenant_id: str) -> None:
        self._container.patch_item(INFO_ID, partition_key=tenant_id,
                                   patch_operations=[{"op": "incr", "path": "/revision", "value": 1}])
        self._revisions.pop(tenant_id, None)

    def _chunk_ids(self, tenant_id: str, doc_id: str | None = None) -> list[str]:
        if doc_id is None:
            rows = self._query(tenant_id, "SELECT c.id FROM c WHERE c.tenantId = @tenant AND c.type = 'chunk'")
        else:
            rows = self._query(tenant_id, "SELECT c.id FROM c WHERE c.tenantId = @tenant AND c.type = 'chunk' "
                                          "AND c.docId = @doc", doc=doc_id)
        return [row["id"] for row in rows]

    # -- port ------------------------------------------------------------------------------------------------------
    def ensure(self, tenant_id: str, model_id: str, dimension: int) -> None:
        check_tenant(tenant_id)
        info = self._info_item(tenant_id)
        if info is None:
            self._container.upsert_item({"id": INFO_ID, "tenantId": tenant_id, "type": "index",
                                         "modelId": model_id, "dimension": dimension, "revision": 0})
            return
        if info["modelId"] != model_id or int(info["dimension"]) != dimension:
            raise mismatch(tenant_id, info["modelId"], int(info["dimension"]), model_id, dimension)

    def info(self, tenant_id: str) -> IndexInfo | None:
        info = self._info_item(check_tenant(tenant_id))
        if info is None:
            return None
        hashes = self.document_hashes(tenant_id)
        chunks = self._query(tenant_id, "SELECT VALUE COUNT(1) FROM c WHERE c.tenantId = @tenant "
                                        "AND c.type = 'chunk'")
        return IndexInfo(info["modelId"], int(info["dimension"]), int(chunks[0]) if chunks else 0, len(hashes))

    def document_hashes(self, tenant_id: str) -> dict[str, str]:
        # Every document has a title card at position 0, so one row per document.
        rows = self._query(check_tenant(tenant_id), "SELECT c.docId, c.docHash FROM c WHERE c.tenantId = @tenant "
                                                    "AND c.type = 'chunk' AND c.position = 0")
        return {row["docId"]: row["docHash"] for row in rows}

    def replace_document(self, tenant_id: str, doc_id: str, records: Sequence[ChunkRecord],
                         vectors: np.ndarray) -> None:
        check_tenant(tenant_id)
        stale = set(self._chunk_ids(tenant_id, doc_id))
        for record, vector in zip(records, vectors, strict=True):
            ident = item_id(doc_id, record.position)
            stale.discard(ident)
            self._container.upsert_item({
                "id": ident, "tenantId": tenant_id, "type": "chunk", "docId": record.doc_id,
                "position": record.position, "groupId": record.group_id, "title": record.title, "url": record.url,
                "lang": record.lang, "langBase": base_language(record.lang), "category": record.category,
                "text": record.text, "docHash": record.doc_hash, "card": record.card,
                "embedding": [float(x) for x in vector],
            })
        for ident in stale:
            self._container.delete_item(ident, partition_key=tenant_id)
        self._bump(tenant_id)

    def delete_document(self, tenant_id: str, doc_id: str) -> int:
        ids = self._chunk_ids(check_tenant(tenant_id), doc_id)
        for ident in ids:
            self._container.delete_item(ident, partition_key=tenant_id)
        if ids:
            self._bump(tenant_id)
        return len(ids)

    def drop(self, tenant_id: str) -> None:
        for ident in self._chunk_ids(check_tenant(tenant_id)):
            self._container.delete_item(ident, partition_key=tenant_id)
        if self._info_item(tenant_id) is not None:
            self._container.delete_item(INFO_ID, partition_key=tenant_id)
        self._revisions.pop(tenant_id, None)
        self._cache.pop(tenant_id, None)

    def revision(self, tenant_id: str) -> str:
        cached = self._revisions.get(tenant_id)
        if cached and time.monotonic() - cached[0] < REVISION_TTL_SECONDS:
            return cached[1]
        info = self._info_item(check_tenant(tenant_id))
        revision = str(info.get("revision", 0)) if info else "none"
        self._revisions[tenant_id] = (time.monotonic(), revision)
        return revision

    def _snapshot(self, tenant_id: str) -> tuple[list[ChunkRecord], dict[str, np.ndarray]]:
        revision = self.revision(tenant_id)
        with self._lock:
            cached = self._cache.get(tenant_id)
            if cached and cached[0] == revision:
                return cached[1], cached[2]
        rows = self._query(tenant_id, f"SELECT {_FIELDS}, c.embedding FROM c WHERE c.tenantId = @tenant "
                                      "AND c.type = 'chunk'")
        records = [_record(row) for row in rows]
        sums: dict[str, list] = {}
        for row, record in zip(rows, records, strict=True):
            vector = np.asarray(row["embedding"], dtype=np.float32)
            for key in (base_language(record.lang), "*"):
                entry = sums.setdefault(key, [np.zeros_like(vector), 0])
                entry[0] += vector
                entry[1] += 1
        centroids = {lang: total / count for lang, (total, count) in sums.items()}
        with self._lock:
            self._cache[tenant_id] = (revision, records, centroids)
        return records, centroids

    def records(self, tenant_id: str) -> list[ChunkRecord]:
        return list(self._snapshot(check_tenant(tenant_id))[0])

    def language_centroids(self, tenant_id: str) -> dict[str, np.ndarray]:
        return dict(self._snapshot(check_tenant(tenant_id))[1])

    def search(self, tenant_id: str, vector: np.ndarray, k: int,
               language_bias: dict[str, float] | None = None) -> list[tuple[ChunkRecord, float]]:
        check_tenant(tenant_id)
        query_vector = [float(x) for x in vector]
        base = (f"SELECT TOP @k {_FIELDS}, VectorDistance(c.embedding, @vector) AS similarity FROM c "
                "WHERE c.tenantId = @tenant AND c.type = 'chunk'{extra} ORDER BY VectorDistance(c.embedding, @vector)")
        results: list[tuple[ChunkRecord, float]] = []
        if language_bias:
            # The offset differs per language, so each language is searched on its own and the lists merged.
            for lang, offset in language_bias.items():
                rows = self._query(tenant_id, base.format(extra=" AND c.langBase = @lang"), k=k,
                                   vector=query_vector, lang=lang)
                results += [(_record(row), float(row["similarity"]) - offset) for row in rows]
        else:
            rows = self._query(tenant_id, base.format(extra=""), k=k, vector=query_vector)
            results = [(_record(row), float(row["similarity"])) for row in rows]
        results.sort(key=lambda item: item[1], reverse=True)
        return results[:k]
