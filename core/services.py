"""The process-wide service container: adapters chosen by settings, built once, replaceable in tests."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from core.config import QueueKind, Settings, StoreKind, get_settings
from core.llm.router import LlmRouter
from core.rag.retrieval import KnowledgeSearch
from core.stores.ports import DocumentStore, MessageQueue


@dataclass
class Services:
    settings: Settings
    store: DocumentStore
    queue: MessageQueue
    knowledge: KnowledgeSearch
    llm: LlmRouter | None = None

    def __post_init__(self) -> None:
        if self.llm is None:
            from core.llm.factory import build_router

            # One router per process: its rate limiters and circuit breakers must see every call.
            self.llm = build_router(self.settings, ledger_store=self.store)


def _default_credential():
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


def build_services(settings: Settings) -> Services:
    if settings.DOCUMENT_STORE is StoreKind.COSMOS:
        from core.stores.cosmos_store import CosmosDocumentStore

        store: DocumentStore = CosmosDocumentStore.connect(
            settings.COSMOS_ENDPOINT, key=settings.COSMOS_KEY or None, database=settings.COSMOS_DATABASE,
            container=settings.COSMOS_CONTAINER, connection_verify=settings.COSMOS_CA_CERT or True,
            credential=None if settings.COSMOS_KEY else _default_credential())
    elif settings.DOCUMENT_STORE is StoreKind.SQLITE:
        from core.stores.sqlite_store import SqliteDocumentStore

        store = SqliteDocumentStore(settings.DATA_DIR / "documents.sqlite")
    else:
        from core.stores.memory_store import MemoryDocumentStore

        store = MemoryDocumentStore()
    if settings.EVENT_QUEUE is QueueKind.STORAGE:
        from core.stores.storage_queue import StorageQueue

        queue: MessageQueue = StorageQueue(settings.AzureWebJobsStorage, settings.AzureWebJobsStorage__queueServiceUri)
    else:
        from core.stores.memory_store import MemoryQueue

        queue = MemoryQueue()
    return Services(settings=settings, store=store, queue=queue, knowledge=KnowledgeSearch(store, settings))


_services: Services | None = None
_lock = threading.Lock()


def get_services() -> Services:
    global _services
    if _services is None:
        with _lock:
            if _services is None:
                _services = build_services(get_settings())
    return _services


def set_services(services: Services | None) -> None:
    """Install a container (tests) or clear it so the next call rebuilds from settings."""
    global _services
    _services = services
