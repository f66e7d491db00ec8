"""Fixtures of the API description tests: the app in process on its own in-memory services (demo shop and
northwind-tea imported), shared by the tests of this folder."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TENANTS = {"demo": REPO / "knowledge/tenants/demo", "northwind-tea": REPO / "tests/fixtures/tenants/northwind-tea"}


@pytest.fixture(scope="package")
def api_services():
    from core.config import load_settings
    from core.rag.retrieval import KnowledgeSearch
    from core.services import Services, set_services
    from core.stores.memory_store import MemoryDocumentStore, MemoryQueue
    from core.tenants import import_tenant

    store = MemoryDocumentStore()
    # A generous wait: the turn's reply, not the pending answer, is what the description is checked against here.
    settings = load_settings(DOCUMENT_STORE="memory", EVENT_QUEUE="memory", CHAT_WAIT_TIMEOUT_MS=120_000)
    container = Services(settings=settings, store=store, queue=MemoryQueue(), knowledge=KnowledgeSearch(store))
    set_services(container)
    for tenant, folder in TENANTS.items():
        # With the search: the folders' prebuilt vectors are loaded, so the first chat does not embed the shop.
        import_tenant(tenant, folder, store, knowledge=container.knowledge)
    yield container
    set_services(None)


@pytest.fixture(scope="package")
def api_app(api_services, functions, tmp_path_factory):
    """The ASGI app; schemathesis' ASGI client starts its lifespan (the Durable engine) on first use."""
    from schemathesis.python import asgi

    from core.agents import critic_model, intent
    from core.devhost.durable import DurableStore
    from core.language import detect

    from .inprocess import HUB, build_asgi_app

    # As the host's warm-up does: the models are loaded before the first request, not inside its timeout.
    intent.classify("where is my order?")
    critic_model.screen("where is my order?")
    detect("bonjour, où est ma commande?")
    store = DurableStore(tmp_path_factory.mktemp("api-durable") / "durable.sqlite", HUB)
    yield build_asgi_app(functions, store)
    asgi.shutdown_lifespans()
    store.close()
