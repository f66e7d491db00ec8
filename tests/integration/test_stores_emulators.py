"""The store contract on emulators: Cosmos DB (@vercel/cosmosdb-server) and Blob (Azurite).

What cosmosdb-server lacks (transactional batch, TTL purge, 404 for a missing item) is covered on recorded
responses in tests/unit/test_stores_cosmos_recorded.py; those tests are marked ``skip`` here with the reason.
"""

from __future__ import annotations

import threading
import time

import pytest

from core.stores.blob_store import AzureBlobStore
from core.stores.cosmos_store import CosmosDocumentStore
from tests.integration import cosmos_emulator
from tests.unit.test_stores_contract import BlobStoreContract, DocumentStoreContract

pytestmark = pytest.mark.integration

NO_BATCH = "cosmosdb-server has no transactional batch: see test_stores_cosmos_recorded.py"


@pytest.fixture(scope="session")
def cosmos_emulator_instance(tmp_path_factory):
    if not cosmos_emulator.available():
        pytest.skip("node or @vercel/cosmosdb-server missing (run `make setup`)")
    emulator = cosmos_emulator.start(tmp_path_factory.mktemp("cosmos"))
    yield emulator
    emulator.stop()


@pytest.fixture(scope="session")
def cosmos_store(cosmos_emulator_instance):
    em = cosmos_emulator_instance
    return CosmosDocumentStore.connect(em.endpoint, key=em.key, connection_verify=em.ca_cert,
                                       database="contract", container="documents")


class TestCosmosDocumentStore(DocumentStoreContract):
    @pytest.fixture
    def store(self, cosmos_store):
        return cosmos_store

    @pytest.mark.skip(reason=NO_BATCH)
    def test_batch_is_all_or_nothing(self, store, tenant):
        pass

    def test_items_are_partitioned_by_tenant_id(self, store, cosmos_store, tenant):
        store.put(tenant, "orders", "1001", {"id": 1})
        props = cosmos_store._container.read()
        assert props["partitionKey"]["paths"] == ["/tenantId"]
        item = cosmos_store._container.read_item("orders|1001", partition_key=tenant)
        assert item["tenantId"] == tenant and item["collection"] == "orders" and item["body"] == {"id": 1}

    def test_ttl_is_sent_to_the_service(self, cosmos_store, tenant):
        cosmos_store.put(tenant, "carts", "c1", {"v": 1}, ttl_seconds=60)
        item = cosmos_store._container.read_item("carts|c1", partition_key=tenant)
        assert item["ttl"] == 61 and item["expiresAt"] > time.time() + 55


class TestAzureBlobStore(BlobStoreContract):
    @pytest.fixture(scope="class")
    def blobs(self, storage_connection):
        return AzureBlobStore.connect("contract-blobs", connection_string=storage_connection)


def test_twenty_parallel_escalations_on_cosmos_create_one_ticket(cosmos_store):
    """if-none-match on Cosmos (create → 409 for the losers): one ticket, every caller gets its id."""
    from concurrent.futures import ThreadPoolExecutor

    from core.agents.escalation import open_ticket, ticket_id_for
    from core.stores.transactions import AlreadyAssigned, assign_ticket

    tenant = f"t-{time.time_ns()}"
    barrier = threading.Barrier(20)

    def escalate(i):
        barrier.wait()
        return open_ticket(cosmos_store, tenant_id=tenant, conversation_id="conv-1", reason=f"r{i}", language="en",
                           transcript=[], customer=None, priority="normal", created_at="2026-01-01T00:00:00Z")

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(escalate, range(20)))
    assert {r.ticket_id for r in results} == {ticket_id_for(tenant, "conv-1")} and len({r.reason for r in results}) == 1
    assert cosmos_store.count(tenant, "tickets") == 1
    assert assign_ticket(cosmos_store, tenant, "conv-1", "agent-a")["assignee"] == "agent-a"
    with pytest.raises(AlreadyAssigned):
        assign_ticket(cosmos_store, tenant, "conv-1", "agent-b")
