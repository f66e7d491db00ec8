"""Token-map vaults: embedded encrypted SQLite, and Azure Key Vault through the SDK's HTTP pipeline on the wire
format Key Vault answers with (tests/bench/pii_recorded.py)."""

from __future__ import annotations

import os
import sqlite3
import stat
from datetime import UTC, datetime, timedelta

import pytest
from azure.keyvault.secrets import SecretClient
from cryptography.exceptions import InvalidTag

from core.pii.vaults.keyvault import KeyVaultVault
from core.pii.vaults.local import LocalVault
from core.pii.vaults.port import MappingRecord, mapping_name
from tests.bench.pii_recorded import VAULT_URL, KeyVaultWire, StaticCredential

ENTRIES = [{"t": "0b9e4f1c-2a7d-4e58-9c3b-6d1f0a2e7b44", "l": "EMAIL", "v": "emily.chen@example.com",
            "k": "email:emily.chen@example.com"},
           {"t": "5c3a8e21-9f4b-4d6a-8e7c-1b2d3f4a5e6f", "l": "PERSON", "v": "Emily Chen", "k": "person:emily chen"}]


def record(days: float = 30, entries=ENTRIES) -> MappingRecord:
    return MappingRecord(list(entries), datetime.now(UTC) + timedelta(days=days))


@pytest.fixture
def local(tmp_path):
    return LocalVault(tmp_path / "vault.sqlite", tmp_path / "vault.key")


def test_local_vault_round_trip_and_per_tenant_conversation_isolation(local):
    local.save("demo", "conv-1", record())
    assert local.load("demo", "conv-1").entries == ENTRIES
    assert local.load("demo", "conv-2") is None
    assert local.load("northwind-tea", "conv-1") is None


def test_local_vault_key_file_is_created_once_with_0600(tmp_path):
    LocalVault(tmp_path / "v.sqlite", tmp_path / "k.key")
    mode = stat.S_IMODE(os.stat(tmp_path / "k.key").st_mode)
    key = (tmp_path / "k.key").read_bytes()
    LocalVault(tmp_path / "v.sqlite", tmp_path / "k.key")
    assert mode == 0o600 and len(key) == 32 and (tmp_path / "k.key").read_bytes() == key


def test_local_vault_stores_only_ciphertext(tmp_path, local):
    local.save("demo", "conv-1", record())
    raw = (tmp_path / "vault.sqlite").read_bytes() + b"".join(
        p.read_bytes() for p in tmp_path.glob("vault.sqlite-*"))
    assert b"emily" not in raw.lower() and b"Chen" not in raw


def test_local_vault_ciphertext_is_bound_to_its_tenant(tmp_path, local):
    local.save("demo", "conv-1", record())
    conn = sqlite3.connect(tmp_path / "vault.sqlite")
    conn.execute("UPDATE pii_maps SET tenant_id='northwind-tea', name=? WHERE tenant_id='demo'",
                 (mapping_name("northwind-tea", "conv-1"),))
    conn.commit()
    with pytest.raises(InvalidTag):
        local.load("northwind-tea", "conv-1")


def test_local_vault_expires_maps_with_the_retention(local):
    local.save("demo", "old", record(days=-1))
    local.save("demo", "new", record(days=1))
    assert local.load("demo", "old") is None and local.load("demo", "new") is not None
    assert local.purge_expired() == 1


@pytest.fixture
def wire():
    return KeyVaultWire()


@pytest.fixture
def keyvault(wire):
    return KeyVaultVault(SecretClient(VAULT_URL, StaticCredential(), transport=wire))


def test_key_vault_keeps_one_secret_per_conversation_with_expiry_and_tenant_tag(wire, keyvault):
    many = [{"t": f"{i:08x}-0000-4000-8000-000000000000", "l": "PHONE", "v": f"514-555-{i:04d}",
             "k": f"phone:1514555{i:04d}"} for i in range(40)]
    expires = datetime.now(UTC) + timedelta(days=180)
    keyvault.save("demo", "conv-1", MappingRecord(many, expires))
    keyvault.save("demo", "conv-2", record())
    puts = [(path, body) for method, path, body in wire.requests if method == "PUT"]
    assert [p for p, _ in puts] == [f"/secrets/{mapping_name('demo', 'conv-1')}",
                                    f"/secrets/{mapping_name('demo', 'conv-2')}"]
    body = puts[0][1]
    assert body["attributes"]["exp"] == int(expires.timestamp())
    assert body["tags"] == {"tenant": "demo", "kind": "pii-map"}
    assert body["contentType"] == "application/vnd.shopdesk.pii-map+json"
    assert len(keyvault.load("demo", "conv-1").entries) == 40


def test_key_vault_secret_names_are_valid_and_distinct_per_tenant():
    names = {mapping_name(t, c) for t in ("demo", "northwind-tea") for c in ("c_1", "c-1", "C1")}
    assert len(names) == 6
    assert all(len(n) <= 127 and n.replace("-", "").isalnum() for n in names)


def test_key_vault_missing_or_expired_map_is_absent(wire, keyvault):
    assert keyvault.load("demo", "never") is None
    keyvault.save("demo", "expired", record(days=-1))
    assert keyvault.load("demo", "expired") is None
    assert [m for m, _, _ in wire.requests] == ["GET", "PUT", "GET"]


def test_key_vault_large_map_is_compressed_into_one_secret(wire, keyvault):
    big = [{"t": f"{i:08x}-0000-4000-8000-000000000000", "l": "ADDRESS", "v": f"{i} rue Beaubien Est, app. {i}",
            "k": f"address:{i} rue beaubien e apt {i}"} for i in range(400)]
    keyvault.save("demo", "long", MappingRecord(big, datetime.now(UTC) + timedelta(days=1)))
    stored = wire.secrets[mapping_name("demo", "long")]["value"]
    assert stored.startswith("z1:") and len(stored) < 24_000
    assert keyvault.load("demo", "long").entries == big


def test_key_vault_delete_uses_the_sdk_poller(wire, keyvault):
    keyvault.save("demo", "conv-1", record())
    keyvault.delete("demo", "conv-1")
    keyvault.delete("demo", "conv-1")
    assert keyvault.load("demo", "conv-1") is None
