"""Cosmos DB NoSQL document store (azure-cosmos): one container, partition key ``/tenantId``.

Item layout: ``{"id": "<collection>|<doc id>", "tenantId", "collection", "docId", "body": {...}, "expiresAt",
"ttl"}``. The body is nested so a Shopify ``id`` field or a ``ttl`` key never collides with Cosmos system fields.
Every query names the tenant's partition key in WHERE and as ``partition_key`` (single-partition, cheap).

TTL: the container is created with ``default_ttl=-1`` (TTL on, no default) and items carry ``ttl``; reads also
filter on ``expiresAt`` because Cosmos purges expired items lazily (and the local emulator has no TTL at all).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from azure.core import MatchConditions
from azure.cosmos import ContainerProxy, CosmosClient, PartitionKey
from azure.cosmos import exceptions as cosmos_errors
from azure.cosmos.documents import SSLConfiguration

from .ports import BatchError, BatchOperation, ConcurrencyError, PatchOp, StoredDocument

_LIVE = "(NOT IS_DEFINED(c.expiresAt) OR IS_NULL(c.expiresAt) OR c.expiresAt >= @now)"


def item_id(collection: str, doc_id: str) -> str:
    # Cosmos ids may not contain '/', '\\', '?' or '#'; '|' separates collection and document id.
    return f"{collection}|{quote(doc_id, safe='')}"


class CosmosDocumentStore:
    def __init__(self, container: ContainerProxy):
        self._container = container

    @classmethod
    def connect(cls, endpoint: str, *, key: str | None = None, credential: Any = None, database: str = "shopdesk",
                container: str = "documents", create: bool = True, connection_verify: bool | str = True,
                **client_kwargs: Any) -> CosmosDocumentStore:
        """Key auth (emulator, tests) or an Entra ID credential (``DefaultAzureCredential`` in Azure)."""
        if isinstance(connection_verify, str):
            # A CA bundle path (local emulator): the SDK skips verification for 127.0.0.1 unless given ssl_config.
            ssl = SSLConfiguration()
            ssl.SSLCaCerts = connection_verify
            client_kwargs["ssl_config"] = ssl
        client = CosmosClient(endpoint, credential=key or credential, connection_verify=connection_verify,
                              **client_kwargs)
        if create:
            db = client.create_database_if_not_exists(database)
            proxy = db.create_container_if_not_exists(container, partition_key=PartitionKey("/tenantId"),
                                                      default_ttl=-1)
        else:
            proxy = client.get_database_client(database).get_container_client(container)
        return cls(proxy)

    # Helpers ---------------------------------------------------------------------------------------------
    @staticmethod
    def _item(tenant_id: str, collection: str, doc_id: str, body: dict[str, Any],
              ttl_seconds: int | None) -> dict[str, Any]:
        item = {"id": item_id(collection, doc_id), "tenantId": tenant_id, "collection": collection, "docId": doc_id,
                "body": body, "expiresAt": time.time() + ttl_seconds if ttl_seconds else None}
        if ttl_seconds:
            item["ttl"] = int(ttl_seconds) + 1  # whole seconds for the service; expiresAt is exact
        return item

    @staticmethod
    def _live(item: dict[str, Any]) -> bool:
        expires = item.get("expiresAt")
        return expires is None or expires >= time.time()

    def _query(self, tenant_id: str, sql: str, **params: Any) -> list[Any]:
        parameters = [{"name": "@tenant", "value": tenant_id}, {"name": "@now", "value": time.time()}]
        parameters += [{"name": f"@{k}", "value": v} for k, v in params.items()]
        return list(self._container.query_items(sql, parameters=parameters, partition_key=tenant_id))

    def _read(self, tenant_id: str, collection: str, doc_id: str) -> dict[str, Any] | None:
        try:
            return self._container.read_item(item_id(collection, doc_id), partition_key=tenant_id)
        except cosmos_errors.CosmosResourceNotFoundError:
            return None
        except cosmos_errors.CosmosHttpResponseError as exc:
            if exc.status_code != 500:
                raise
            # cosmosdb-server (the local emulator) answers 500 for a missing item; Cosmos DB answers 404.
            # A point query with the partition key in WHERE tells the two apart without guessing.
            rows = self._query(tenant_id, "SELECT * FROM c WHERE c.tenantId = @tenant AND c.id = @id",
                               id=item_id(collection, doc_id))
            if rows:
                raise
            return None

    # DocumentStore -------------------------------------------------------------------------------------------
    def get(self, tenant_id: str, collection: str, doc_id: str) -> StoredDocument | None:
        item = self._read(tenant_id, collection, doc_id)
        if item is None or not self._live(item):
            return None
        return StoredDocument(doc_id, item["body"], item["_etag"])

    def put(self, tenant_id: str, collection: str, doc_id: str, body: dict[str, Any], *,
            if_match: str | None = None, if_none_match: bool = False, ttl_seconds: int | None = None) -> str:
        item = self._item(tenant_id, collection, doc_id, body, ttl_seconds)
        try:
            if if_match is not None:
                saved = self._container.replace_item(item["id"], item, etag=if_match,
                                                     match_condition=MatchConditions.IfNotModified)
            elif if_none_match:
                try:
                    saved = self._container.create_item(item)
                except cosmos_errors.CosmosResourceExistsError:
                    # An expired item that the service has not purged yet does not count as existing.
                    current = self._read(tenant_id, collection, doc_id)
                    if current is None or self._live(current):
                        raise
                    saved = self._container.replace_item(item["id"], item, etag=current["_etag"],
                                                         match_condition=MatchConditions.IfNotModified)
            else:
                saved = self._container.upsert_item(item)
        except (cosmos_errors.CosmosAccessConditionFailedError, cosmos_errors.CosmosResourceExistsError,
                cosmos_errors.CosmosResourceNotFoundError) as exc:
            raise ConcurrencyError(f"{collection}/{doc_id}: {exc.status_code}") from None
        return saved["_etag"]

    def delete(self, tenant_id: str, collection: str, doc_id: str) -> bool:
        if self._read(tenant_id, collection, doc_id) is None:
            return False
        try:
            self._container.delete_item(item_id(collection, doc_id), partition_key=tenant_id)
        except cosmos_errors.CosmosResourceNotFoundError:
            return False
        return True

    def list(self, tenant_id: str, collection: str, *, prefix: str = "", limit: int = 1000) -> list[StoredDocument]:
        sql = ("SELECT * FROM c WHERE c.tenantId = @tenant AND c.collection = @collection "
               f"AND STARTSWITH(c.docId, @prefix) AND {_LIVE} ORDER BY c.docId")
        out = []
        for item in self._container.query_items(
            sql, partition_key=tenant_id, max_item_count=min(limit, 1000),
            parameters=[{"name": "@tenant", "value": tenant_id}, {"name": "@collection", "value": collection},
                        {"name": "@prefix", "value": prefix}, {"name": "@now", "value": time.time()}],
        ):
            out.append(StoredDocument(item["docId"], item["body"], item["_etag"]))
            if len(out) >= limit:
                break
        return out

    def count(self, tenant_id: str, collection: str) -> int:
        rows = self._query(tenant_id, "SELECT VALUE COUNT(1) FROM c WHERE c.tenantId = @tenant "
                                      f"AND c.collection = @collection AND {_LIVE}", collection=collection)
        return int(rows[0]) if rows else 0

    def patch(self, tenant_id: str, collection: str, doc_id: str, operations: list[PatchOp], *,
              if_match: str | None = None) -> StoredDocument:
        ops = [{**op, "path": "/body" + op["path"]} for op in operations]
        kwargs: dict[str, Any] = {}
        if if_match is not None:
            kwargs = {"etag": if_match, "match_condition": MatchConditions.IfNotModified}
        try:
            item = self._container.patch_item(item_id(collection, doc_id), partition_key=tenant_id,
                                              patch_operations=ops, **kwargs)
        except cosmos_errors.CosmosResourceNotFoundError:
            raise KeyError(f"{collection}/{doc_id}") from None
        except cosmos_errors.CosmosAccessConditionFailedError:
            raise ConcurrencyError(f"{collection}/{doc_id} changed since it was read") from None
        return StoredDocument(doc_id, item["body"], item["_etag"])

    def batch(self, tenant_id: str, operations: list[BatchOperation]) -> list[str]:
        """Cosmos DB transactional batch (up to 100 operations, one partition). Not in the local emulator."""
        ops: list[Any] = []
        for op in operations:
            kwargs = {"if_match_etag": op.if_match} if op.if_match else {}
            if op.kind == "delete":
                ops.append(("delete", (item_id(op.collection, op.doc_id),), kwargs))
                continue
            item = self._item(tenant_id, op.collection, op.doc_id, op.body or {}, op.ttl_seconds)
            if op.kind == "replace":
                ops.append(("replace", (item["id"], item), kwargs))
            else:
                ops.append((op.kind, (item,), kwargs))
        try:
            results = self._container.execute_item_batch(ops, partition_key=tenant_id)
        except cosmos_errors.CosmosBatchOperationError as exc:
            failed = operations[exc.error_index]
            raise BatchError(f"{failed.collection}/{failed.doc_id}: status {exc.status_code}",
                             exc.error_index) from None
        return ["" if op.kind == "delete" else str(r.get("eTag") or r.get("resourceBody", {}).get("_etag", ""))
                for op, r in zip(operations, results, strict=True)]
