"""Shared fixtures: isolated settings, an in-memory service container, and tenant folders."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
_DATA = tempfile.mkdtemp(prefix="shopdesk-tests-")
os.environ.setdefault("FUNCTIONS_WORKER_RUNTIME", "python")
os.environ.setdefault("AzureWebJobsStorage",
                      os.environ.get("TEST_AZURITE_CONNECTION_STRING", "UseDevelopmentStorage=true"))
os.environ["DATA_DIR"] = _DATA
os.environ.setdefault("EVENT_QUEUE", "memory")
os.environ.setdefault("DOCUMENT_STORE", "memory")
# The test shops' identity secrets (their back ends sign their signed-in customers with these).
os.environ.setdefault("CHAT_IDENTITY_SECRET_NORTHWIND_TEA", "test-northwind-tea-identity-secret")
os.environ.setdefault("CHAT_IDENTITY_SECRET_MAPLE_PAWS", "test-maple-paws-identity-secret")
# Every other setting as a fresh clone has it (the environment wins, as with Core Tools).
from core.config import load_local_settings  # noqa: E402

load_local_settings(REPO / "local.settings.sample.json")

DEMO_TENANT = REPO / "knowledge" / "tenants" / "demo"
SECOND_TENANT = REPO / "tests" / "fixtures" / "tenants" / "northwind-tea"


@pytest.fixture
def services():
    """A fresh in-memory container with the demo tenant and the second tenant imported."""
    from core.config import load_settings
    from core.rag.retrieval import KnowledgeSearch
    from core.services import Services, set_services
    from core.stores.memory_store import MemoryDocumentStore, MemoryQueue
    from core.tenants import import_tenant

    store = MemoryDocumentStore()
    container = Services(settings=load_settings(DOCUMENT_STORE="memory", EVENT_QUEUE="memory"), store=store,
                         queue=MemoryQueue(), knowledge=KnowledgeSearch(store))
    set_services(container)
    import_tenant("demo", DEMO_TENANT, store, knowledge=container.knowledge)
    import_tenant("northwind-tea", SECOND_TENANT, store, knowledge=container.knowledge)
    yield container
    set_services(None)


@pytest.fixture(scope="session")
def functions():
    """``app.get_functions()`` may be called once per app object, so every test shares this list."""
    import function_app

    return function_app.app.get_functions()


# Integration and e2e suites share one Azurite and one running local host per session.


@pytest.fixture(scope="session")
def storage_connection(tmp_path_factory):
    """The Azurite that `make test` started, or one of our own when pytest runs alone."""
    existing = os.environ.get("TEST_AZURITE_CONNECTION_STRING")
    if existing:
        yield existing
        return
    from core.devhost import azurite
    from tests.integration.hosting import free_port

    location = tmp_path_factory.mktemp("azurite")
    ports = (free_port(), free_port(), free_port())
    azurite.start(location, *ports)
    yield azurite.connection_string(*ports)
    azurite.stop(location)


@pytest.fixture(scope="session")
def app_host(storage_connection, tmp_path_factory):
    """The real function_app.py on the local host, with the demo shop and two other shops imported; with
    ``E2E_VENDORS=standins`` their orders and tickets go through the Shopify and Zendesk adapters to the local
    stand-ins (``host.standins``; None otherwise)."""
    from tests.e2e import vendors
    from tests.integration.hosting import HostProcess, host_env

    data_dir = tmp_path_factory.mktemp("host-data")
    shops = {"demo": REPO / "knowledge/tenants/demo", "northwind-tea": REPO / "tests/fixtures/tenants/northwind-tea",
             "maple-paws": REPO / "tests/fixtures/tenants/maple-paws"}
    standins, settings = None, {}
    if vendors.wanted():
        standins, settings, shops = vendors.start(shops, tmp_path_factory.mktemp("vendor-shops"))
    env = host_env(storage_connection, data_dir, **settings)
    for tenant, folder in shops.items():
        subprocess.run([sys.executable, "-m", "core.tenants", "import", tenant, str(folder)], cwd=REPO, env=env,
                       check=True, capture_output=True)
    host = HostProcess(env, REPO, "function_app", data_dir / "host.log")
    host.standins = standins
    host.startup_seconds = host.start()
    yield host
    host.stop()
    if standins is not None:
        standins.stop()
