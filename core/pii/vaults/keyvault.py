"""Azure Key Vault: ONE secret per tenant + conversation holding the whole token map (never one per token —
Key Vault throttles per vault and soft-deletes every secret). The secret expires with the tenant's retention
(``expires_on``); an expired secret is treated as absent."""

from __future__ import annotations

import base64
import zlib
from datetime import UTC, datetime

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.secrets import SecretClient

from .port import MappingRecord, VaultError, mapping_name

CONTENT_TYPE = "application/vnd.shopdesk.pii-map+json"
_MAX_PLAIN = 20_000  # Key Vault secret values are limited to 25 KB; larger maps are compressed
_ZIP_PREFIX = "z1:"


def _encode(record: MappingRecord) -> str:
    data = record.to_bytes()
    if len(data) <= _MAX_PLAIN:
        return data.decode("utf-8")
    packed = _ZIP_PREFIX + base64.b64encode(zlib.compress(data, 9)).decode("ascii")
    if len(packed) > 24_000:
        raise VaultError("token map too large for one Key Vault secret")
    return packed


def _decode(value: str) -> MappingRecord:
    if value.startswith(_ZIP_PREFIX):
        return MappingRecord.from_bytes(zlib.decompress(base64.b64decode(value[len(_ZIP_PREFIX):])))
    return MappingRecord.from_bytes(value)


class KeyVaultVault:
    def __init__(self, client: SecretClient):
        self.client = client

    def load(self, tenant_id: str, conversation_id: str) -> MappingRecord | None:
        name = mapping_name(tenant_id, conversation_id)
        try:
            secret = self.client.get_secret(name)
        except ResourceNotFoundError:
            return None
        except HttpResponseError as exc:
            if exc.status_code == 403 and "disabled" in str(exc).lower():
                return None
            raise VaultError(f"Key Vault read failed ({exc.status_code})") from None
        expires = secret.properties.expires_on
        if expires is not None and expires <= datetime.now(UTC):
            return None
        if secret.properties.tags and secret.properties.tags.get("tenant") not in (None, tenant_id):
            raise VaultError("token map belongs to another tenant")
        return _decode(secret.value or "")

    def save(self, tenant_id: str, conversation_id: str, record: MappingRecord) -> None:
        name = mapping_name(tenant_id, conversation_id)
        try:
            self.client.set_secret(name, _encode(record), content_type=CONTENT_TYPE, expires_on=record.expires_at,
                                   tags={"tenant": tenant_id, "kind": "pii-map"})
        except HttpResponseError as exc:
            raise VaultError(f"Key Vault write failed ({exc.status_code})") from None

    def delete(self, tenant_id: str, conversation_id: str) -> None:
        try:
            # Soft delete; the poller is not awaited (the map is unreadable as soon as the call returns).
            self.client.begin_delete_secret(mapping_name(tenant_id, conversation_id))
        except ResourceNotFoundError:
            pass
