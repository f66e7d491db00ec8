"""The composition root: every adapter is chosen by settings and built once here, then handed to what uses it (the
chat turn's steps, the event handlers, the notification orchestrations, the timers).

The Functions adapters (blueprints) and the command-line tools take the process's container from
``get_services()``; nothing in the product below them reaches for it. Which shop reader, ticket desk, notifier and
analytics sink a tenant uses is decided in ``integrations_for`` alone."""

from __future__ import annotations

import functools
import json
import threading
from dataclasses import dataclass

from core import audit
from core.config import QueueKind, Settings, StoreKind, get_settings
from core.events.handlers import HandlerPorts
from core.events.runtime import Events, build_events
from core.integrations.factory import Integrations, build_integrations
from core.llm.factory import build_router
from core.llm.router import LlmRouter
from core.pii.guard import PiiGuard, tenant_policies
from core.pii.router_adapter import RouterGuard
from core.pii.vaults import build_vault
from core.rag.retrieval import KnowledgeSearch
from core.stores.memory_store import MemoryDocumentStore, MemoryQueue
from core.stores.ports import DocumentStore, MessageQueue
from core.stores.sqlite_store import SqliteDocumentStore
from core.stores.storage_queue import StorageQueue
from core.tenants import get_tenant
from core.turn.ports import TurnPorts


@dataclass
class Services:
    settings: Settings
    store: DocumentStore
    queue: MessageQueue
    knowledge: KnowledgeSearch
    llm: LlmRouter | None = None

    def __post_init__(self) -> None:
        if self.llm is None:
            # One router per process: its rate limiters and circuit breakers must see every call. The PII guard is
            # built only if a provider outside the perimeter needs it.
            self.llm = build_router(self.settings, ledger_store=self.store,
                                    guard_factory=lambda: RouterGuard(self.pii_guard))

    @functools.cached_property
    def pii_guard(self) -> PiiGuard:
        """The guard around third-party model calls: the vault chosen by ``PII_VAULT``, each tenant's policy from
        its configuration, and every vault read and write audited for audited tenants."""
        return PiiGuard(build_vault(self.settings), always=str(self.settings.PII_TOKENIZE) == "always",
                        policy=tenant_policies(self.tenant), on_vault_access=self._audit_vault_access)

    @functools.cached_property
    def events(self) -> Events:
        """The event bus, its ledger and the agent queues' dispatcher."""
        return build_events(self.settings, self.store)

    def tenant(self, tenant_id: str):
        return get_tenant(tenant_id, self.store)

    @functools.cached_property
    def _integrations(self) -> dict[tuple[str, str], Integrations]:
        return {}

    def integrations_for(self, tenant_id: str) -> Integrations:
        """The tenant's shop data, ticket desk, notifier and analytics sink: the sandboxes unless settings or the
        tenant's ``integrations`` block in tenant.json name a vendor. Built once per tenant configuration, so the
        vendor clients (connections, Shopify's catalogue cache) are shared by every turn and event of the tenant."""
        tenant = self.tenant(tenant_id)
        config = dict(tenant.integrations) if tenant else {}
        key = (tenant_id, json.dumps(config, sort_keys=True))
        built = self._integrations.get(key)
        if built is None:
            built = build_integrations(tenant_id, config, self.settings, self.store)
            self._integrations[key] = built  # one dict item assignment: a race builds twice, harmlessly
        return built

    def turn_ports(self) -> TurnPorts:
        """What a chat turn's steps use: orders and the catalogue from the tenant's configured shop reader (the
        imported exports, or the Shopify Admin API). Tickets are kept in the store; the escalation queue then
        pushes them to the configured desk through the event bus (``core.desk_outbox``)."""
        return TurnPorts(settings=self.settings, store=self.store, queue=self.queue, knowledge=self.knowledge,
                         llm=self.llm, shop_for=lambda tenant_id: self.integrations_for(tenant_id).shop,
                         actions_for=lambda tenant_id: self.integrations_for(tenant_id).actions,
                         publish=lambda events: self.events.bus.publish(events))

    def handler_ports(self) -> HandlerPorts:
        """What the event bus's agent handlers use."""
        return HandlerPorts(store=self.store, ledger=self.events.ledger, integrations_for=self.integrations_for)

    def _audit_vault_access(self, tenant_id: str, conversation_id: str, action: str, outcome: str) -> None:
        audit.record(self.store, self.settings, self.tenant(tenant_id), actor_kind="system", actor_id="pii-guard",
                     action=action, resource_kind="pii_mapping", resource_id=conversation_id, outcome=outcome,
                     via="core.pii")


def _document_store(settings: Settings) -> DocumentStore:
    if settings.DOCUMENT_STORE is StoreKind.COSMOS:
        # Only a Cosmos DB deployment loads the Cosmos and identity SDKs.
        from azure.identity import DefaultAzureCredential

        from core.stores.cosmos_store import CosmosDocumentStore

        return CosmosDocumentStore.connect(
            settings.COSMOS_ENDPOINT, key=settings.COSMOS_KEY or None, database=settings.COSMOS_DATABASE,
            container=settings.COSMOS_CONTAINER, connection_verify=settings.COSMOS_CA_CERT or True,
            credential=None if settings.COSMOS_KEY else DefaultAzureCredential())
    if settings.DOCUMENT_STORE is StoreKind.SQLITE:
        return SqliteDocumentStore(settings.DATA_DIR / "documents.sqlite")
    return MemoryDocumentStore()


def build_services(settings: Settings) -> Services:
    store = _document_store(settings)
    queue: MessageQueue = (StorageQueue(settings.AzureWebJobsStorage, settings.AzureWebJobsStorage__queueServiceUri)
                           if settings.EVENT_QUEUE is QueueKind.STORAGE else MemoryQueue())
    return Services(settings=settings, store=store, queue=queue, knowledge=KnowledgeSearch(store, settings))


_services: Services | None = None
_lock = threading.Lock()


def get_services() -> Services:
    """The process's container (the Functions programming model gives blueprints no constructor to receive it)."""
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
