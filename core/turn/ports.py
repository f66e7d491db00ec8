"""What the steps of a chat turn use, handed to them by the composition root (``core.services``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.config import Settings
from core.events.catalog import CloudEvent
from core.integrations.ports import ShopActions, ShopData
from core.llm.router import LlmRouter
from core.rag.retrieval import KnowledgeSearch
from core.stores.ports import DocumentStore, MessageQueue


@dataclass(frozen=True)
class TurnPorts:
    settings: Settings
    store: DocumentStore  # tenants, conversations, tickets, KB documents, customers, waitlists, announcements
    queue: MessageQueue  # hand-off jobs and analytics events
    knowledge: KnowledgeSearch
    llm: LlmRouter | None
    shop_for: Callable[[str], ShopData]  # the tenant's orders and catalogue
    actions_for: Callable[[str], ShopActions] | None = None  # writes on the tenant's orders (order actions)
    publish: Callable[[list[CloudEvent]], None] | None = None  # the event bus (order actions' CloudEvents)
