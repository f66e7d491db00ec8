"""The Cosmos DB token-map vault on the local emulator (@vercel/cosmosdb-server), with data keys wrapped and
unwrapped by Key Vault keys through the SDK on the Key Vault wire format (tests/bench/pii_recorded.py)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from azure.cosmos import CosmosClient, PartitionKey
from azure.cosmos.documents import SSLConfiguration
from azure.keyvault.keys.crypto import CryptographyClient

from core.pii.vaults.cosmos import CosmosEnvelopeVault
from core.pii.vaults.port import MappingRecord, mapping_name
from tests.bench.pii_recorded import KEY_ID, KeyVaultWire, StaticCredential
from tests.integration import cosmos_emulator

pytestmark = pytest.mark.integration

ENTRIES = [{"t": "0b9e4f1c-2a7d-4e58-9c3b-6d1f0a2e7b44", "l": "PERSON", "v": "Lucía Fernández",
            "k": "person:lucia fernandez"}]


@pytest.fixture(scope="module")
def container(tmp_path_factory):
    if not cosmos_emulator.available():
        pytest.skip("node or @vercel/cosmosdb-server missing (run `make setup`)")
    emulator = cosmos_emulator.start(tmp_path_factory.mktemp("pii-cosmos"))
    ssl = SSLConfiguration()
    ssl.SSLCaCerts = emulator.ca_cert
    client = CosmosClient(emulator.endpoint, credential=emulator.key, connection_verify=emulator.ca_cert,
                          ssl_config=ssl)
    database = client.create_database_if_not_exists("shopdesk")
    yield database.create_container_if_not_exists("pii-maps", partition_key=PartitionKey("/tenant_id"),
                                                  default_ttl=-1)
    emulator.stop()


@pytest.fixture
def wire():
    return KeyVaultWire()


@pytest.fixture
def vault(container, wire):
    return CosmosEnvelopeVault(container, CryptographyClient(KEY_ID, StaticCredential(), transport=wire))


def record(days: float = 30) -> MappingRecord:
    return MappingRecord(list(ENTRIES), datetime.now(UTC) + timedelta(days=days))


def test_maps_are_sealed_in_cosmos_with_a_wrapped_data_key(container, vault, wire):
    vault.save("demo", "conv-1", record())
    item = container.read_item(mapping_name("demo", "conv-1"), partition_key="demo")
    assert "Lucía" not in json.dumps(item, ensure_ascii=False) and "lucia" not in json.dumps(item).lower()
    assert item["kek"] == KEY_ID and len(base64.b64decode(item["wrapped_key"])) == 256  # RSA-2048 OAEP
    assert 0 < item["ttl"] <= 30 * 86400 and item["tenant_id"] == "demo"
    assert wire.count("POST", "/wrapkey") == 1


def test_load_unwraps_once_and_decrypts(container, wire):
    writer = CosmosEnvelopeVault(container, CryptographyClient(KEY_ID, StaticCredential(), transport=wire))
    writer.save("demo", "conv-2", record())
    reader = CosmosEnvelopeVault(container, CryptographyClient(KEY_ID, StaticCredential(), transport=wire))
    assert reader.load("demo", "conv-2").entries == ENTRIES
    assert reader.load("demo", "conv-2").entries == ENTRIES
    reader.save("demo", "conv-2", record())  # same map: its data key is reused, nothing new is wrapped
    assert wire.count("POST", "/unwrapkey") == 1 and wire.count("POST", "/wrapkey") == 1


def test_missing_expired_and_other_tenant_maps_are_absent(vault):
    assert vault.load("demo", "never-saved") is None
    vault.save("demo", "old", record(days=-1 / 24))
    assert vault.load("demo", "old") is None
    vault.save("demo", "conv-3", record())
    assert vault.load("northwind-tea", "conv-3") is None
