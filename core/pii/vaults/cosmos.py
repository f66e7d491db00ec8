"""Cosmos DB fallback with envelope encryption: each map is sealed (AES-256-GCM) with its own data key, and that
data key is stored wrapped by a Key Vault key (``CryptographyClient.wrap_key``, RSA-OAEP-256). Cosmos never sees
a readable value; Key Vault never sees the map. Items are partitioned by tenant and carry a TTL."""

from __future__ import annotations

import base64
import threading
from datetime import UTC, datetime

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.keys.crypto import CryptographyClient, KeyWrapAlgorithm

from .crypto import new_key, open_sealed, seal
from .port import MappingRecord, VaultError, mapping_name

WRAP_ALGORITHM = KeyWrapAlgorithm.rsa_oaep_256


class CosmosEnvelopeVault:
    def __init__(self, container, key_client: CryptographyClient):
        self.container = container
        self.key_client = key_client
        self._data_keys: dict[tuple[str, str], bytes] = {}  # wrapped key -> data key (saves an unwrap per turn)
        self._map_keys: dict[tuple[str, str], tuple[str, str]] = {}  # map -> (kek id, wrapped data key)
        self._lock = threading.Lock()

    @staticmethod
    def _aad(tenant_id: str, name: str) -> bytes:
        return f"{tenant_id}\x1f{name}".encode()

    def _unwrap(self, key_id: str, wrapped_b64: str) -> bytes:
        cache_key = (key_id, wrapped_b64)
        with self._lock:
            if cache_key in self._data_keys:
                return self._data_keys[cache_key]
        result = self.key_client.unwrap_key(WRAP_ALGORITHM, base64.b64decode(wrapped_b64))
        with self._lock:
            self._data_keys[cache_key] = result.key
        return result.key

    def load(self, tenant_id: str, conversation_id: str) -> MappingRecord | None:
        name = mapping_name(tenant_id, conversation_id)
        try:
            item = self.container.read_item(item=name, partition_key=tenant_id)
        except ResourceNotFoundError:
            return None
        except HttpResponseError as exc:
            if exc.status_code != 500:
                raise VaultError(f"Cosmos read failed ({exc.status_code})") from None
            # The local emulator answers 500 for a missing item (Cosmos DB: 404): confirm with a query.
            found = list(self.container.query_items(
                "SELECT * FROM c WHERE c.tenant_id = @tenant AND c.id = @id", partition_key=tenant_id,
                parameters=[{"name": "@tenant", "value": tenant_id}, {"name": "@id", "value": name}]))
            if not found:
                return None
            item = found[0]
        if item.get("tenant_id") != tenant_id or datetime.fromisoformat(item["expires_at"]) <= datetime.now(UTC):
            return None
        data_key = self._unwrap(item["kek"], item["wrapped_key"])
        with self._lock:
            self._map_keys[(tenant_id, name)] = (item["kek"], item["wrapped_key"])
        sealed = base64.b64decode(item["sealed"])
        return MappingRecord.from_bytes(open_sealed(data_key, sealed, self._aad(tenant_id, name)))

    def save(self, tenant_id: str, conversation_id: str, record: MappingRecord) -> None:
        name = mapping_name(tenant_id, conversation_id)
        with self._lock:
            known = self._map_keys.get((tenant_id, name))
            data_key = self._data_keys.get(known) if known else None
        if known and data_key:
            key_id, wrapped_b64 = known  # one data key per map: a new one only for a new map
        else:
            data_key = new_key()
            wrapped = self.key_client.wrap_key(WRAP_ALGORITHM, data_key)
            key_id, wrapped_b64 = wrapped.key_id, base64.b64encode(wrapped.encrypted_key).decode("ascii")
            with self._lock:
                self._data_keys[(key_id, wrapped_b64)] = data_key
                self._map_keys[(tenant_id, name)] = (key_id, wrapped_b64)
        ttl = max(1, int((record.expires_at - datetime.now(UTC)).total_seconds()))
        item = {
            "id": name, "tenant_id": tenant_id, "kind": "pii-map", "kek": key_id,
            "alg": "A256GCM+" + str(WRAP_ALGORITHM.value), "wrapped_key": wrapped_b64,
            "sealed": base64.b64encode(seal(data_key, record.to_bytes(), self._aad(tenant_id, name))).decode(),
            "expires_at": record.expires_at.isoformat(), "ttl": ttl,
        }
        try:
            self.container.upsert_item(item)
        except HttpResponseError as exc:
            raise VaultError(f"Cosmos write failed ({exc.status_code})") from None

    def delete(self, tenant_id: str, conversation_id: str) -> None:
        try:
            self.container.delete_item(item=mapping_name(tenant_id, conversation_id), partition_key=tenant_id)
        except ResourceNotFoundError:
            pass

