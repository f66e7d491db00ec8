"""The vault port: one record per tenant + conversation holding that conversation's whole token map."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol


class VaultError(RuntimeError):
    """The vault could not be read or written (the caller must not send untokenized text instead)."""


@dataclass
class MappingRecord:
    entries: list[dict[str, str]]
    expires_at: datetime

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at <= (now or datetime.now(UTC))

    def to_bytes(self) -> bytes:
        return json.dumps({"v": 1, "expires_at": self.expires_at.isoformat(), "entries": self.entries},
                          ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes | str) -> MappingRecord:
        body = json.loads(data)
        return cls(entries=body["entries"], expires_at=datetime.fromisoformat(body["expires_at"]))


def mapping_name(tenant_id: str, conversation_id: str) -> str:
    """A name safe for Key Vault secrets and Cosmos ids: ``pii-<tenant>-<hash of tenant and conversation>``."""
    digest = hashlib.sha256(f"{tenant_id}\x1f{conversation_id}".encode()).hexdigest()[:40]
    return f"pii-{tenant_id}-{digest}"


class MappingVault(Protocol):
    def load(self, tenant_id: str, conversation_id: str) -> MappingRecord | None:
        """The conversation's token map, or None when there is none or it has expired."""
        ...

    def save(self, tenant_id: str, conversation_id: str, record: MappingRecord) -> None: ...

    def delete(self, tenant_id: str, conversation_id: str) -> None: ...
