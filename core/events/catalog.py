"""The event catalog: every CloudEvent type the platform publishes, its data schema, its subject, and which agent
queues subscribe to it. This module is the single source; ``python -m core.events.catalog export`` writes
``bicep/catalog.json`` for the infrastructure (a unit test keeps the committed file equal to the export).
"""

from __future__ import annotations

import json
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.models import TENANT_ID_PATTERN

SOURCE = "/shopdesk"
TOPIC = "shopdesk-events"
SPEC_VERSION = "1.0"


# Data schemas. Vendor payloads carry many more fields than an agent needs: the schema names what is required and
# keeps the rest (extra="allow"), so a vendor adding fields never breaks delivery.
class _Data(BaseModel):
    model_config = ConfigDict(extra="allow")


class CustomerData(_Data):
    id: int | str
    email: str | None = None
    tags: str | list[str] | None = None


class CustomerTagsData(_Data):
    customerId: int | str  # noqa: N815  (Shopify's field name)
    tags: list[str] = []


class OrderData(_Data):
    id: int | str
    order_number: int | str | None = None
    name: str | None = None
    email: str | None = None


class InventoryData(_Data):
    inventory_item_id: int | str
    available: int | None = None
    location_id: int | str | None = None


class TicketData(_Data):
    ticket_id: int | str
    external_id: str | None = None
    status: str | None = None
    priority: str | None = None
    assignee_id: int | str | None = None
    comment: dict[str, Any] | None = None  # {"body", "public", "author": {"is_agent", "name"}}


class TicketOpenedData(_Data):
    ticket_id: str  # ShopDesk's ticket id (the desk's external_id)
    conversation_id: str


class OrderActionData(_Data):
    """An order action the desk took at a customer's request (``core.actions``)."""

    order_number: str
    action_id: str
    tool: str
    conversation_id: str


class SatisfactionData(_Data):
    ticket_id: int | str
    score: str


class PromotionData(_Data):
    promotion_id: str
    title: str


class ReportData(_Data):
    period: str  # "daily" | "weekly"
    day: str  # last day covered, YYYY-MM-DD


class SyncData(_Data):
    kind: str  # "products" | "analytics"
    schedule: str | None = None


class NewsData(_Data):
    guid: str
    title: str
    link: str | None = None
    summary: str | None = None
    published: str | None = None


class EventSpec(BaseModel):
    type: str
    data: type[BaseModel]
    subject: str  # template with {tenant} and {key}
    agents: tuple[str, ...]


# One queue per agent. Event Grid (Azure) and the local publisher deliver each event to the queues of the agents
# that subscribe to its type.
AGENTS = ("response", "escalation", "knowledge", "analytics")
ALL = ("analytics",)

_SPECS = [
    EventSpec(type="shopify.customers.created", data=CustomerData, subject="customers/{key}", agents=("knowledge",)),
    EventSpec(type="shopify.customers.updated", data=CustomerData, subject="customers/{key}", agents=("knowledge",)),
    EventSpec(type="shopify.customers.deleted", data=CustomerData, subject="customers/{key}", agents=("knowledge",)),
    EventSpec(type="shopify.customers.tags_changed", data=CustomerTagsData, subject="customers/{key}/tags",
              agents=("knowledge",)),
    EventSpec(type="shopify.orders.created", data=OrderData, subject="orders/{key}", agents=("knowledge",)),
    EventSpec(type="shopify.orders.paid", data=OrderData, subject="orders/{key}", agents=("knowledge",)),
    EventSpec(type="shopify.orders.fulfilled", data=OrderData, subject="orders/{key}",
              agents=("knowledge", "response")),
    EventSpec(type="shopify.orders.cancelled", data=OrderData, subject="orders/{key}", agents=("knowledge",)),
    EventSpec(type="shopify.inventory.updated", data=InventoryData, subject="inventory/{key}",
              agents=("knowledge", "response")),
    EventSpec(type="zendesk.tickets.created", data=TicketData, subject="tickets/{key}", agents=("escalation",)),
    EventSpec(type="zendesk.tickets.updated", data=TicketData, subject="tickets/{key}", agents=("escalation",)),
    EventSpec(type="zendesk.tickets.closed", data=TicketData, subject="tickets/{key}", agents=("escalation",)),
    EventSpec(type="zendesk.tickets.priority_changed", data=TicketData, subject="tickets/{key}",
              agents=("escalation",)),
    EventSpec(type="zendesk.tickets.assigned", data=TicketData, subject="tickets/{key}", agents=("escalation",)),
    EventSpec(type="shopdesk.tickets.opened", data=TicketOpenedData, subject="tickets/{key}", agents=("escalation",)),
    # Order actions taken at a customer's request; ``tool`` says which (cancel_order, change_shipping_address,
    # change_items, refund; start_return, start_exchange). Two types keep the analytics subscription within Event
    # Grid's 25 event types per filter.
    EventSpec(type="shopdesk.orders.changed", data=OrderActionData, subject="orders/{key}", agents=()),
    EventSpec(type="shopdesk.returns.started", data=OrderActionData, subject="orders/{key}/returns", agents=()),
    EventSpec(type="zendesk.satisfaction_rating.created", data=SatisfactionData, subject="tickets/{key}/satisfaction",
              agents=("escalation",)),
    EventSpec(type="scheduled.promotions.started", data=PromotionData, subject="promotions/{key}",
              agents=("response",)),
    EventSpec(type="scheduled.promotions.ended", data=PromotionData, subject="promotions/{key}", agents=("response",)),
    EventSpec(type="scheduled.reports.daily", data=ReportData, subject="reports/daily/{key}", agents=()),
    EventSpec(type="scheduled.reports.weekly", data=ReportData, subject="reports/weekly/{key}", agents=()),
    EventSpec(type="scheduled.sync.products", data=SyncData, subject="sync/products/{key}", agents=("knowledge",)),
    EventSpec(type="scheduled.sync.analytics", data=SyncData, subject="sync/analytics/{key}", agents=()),
    EventSpec(type="company.news.published", data=NewsData, subject="news/{key}", agents=("response",)),
]
# The analytics agent counts every event (and owns reports and the analytics sync).
CATALOG: dict[str, EventSpec] = {
    s.type: s.model_copy(update={"agents": tuple(dict.fromkeys((*s.agents, *ALL)))}) for s in _SPECS}


DEFAULT_QUEUE_PREFIX = "events"  # EVENTS_QUEUE_PREFIX; bicep declares the default names


def queue_for(agent: str, prefix: str = DEFAULT_QUEUE_PREFIX) -> str:
    if agent not in AGENTS:
        raise KeyError(agent)
    return f"{prefix}-{agent}"


def subscribers(event_type: str) -> tuple[str, ...]:
    return CATALOG[event_type].agents


class UnknownEventType(KeyError):
    pass


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 envelope (JSON format). ``deliveryattempt`` is our extension: retries already made."""

    model_config = ConfigDict(extra="allow")
    specversion: str = SPEC_VERSION
    id: str
    source: str = SOURCE
    type: str
    subject: str
    time: str
    datacontenttype: str = "application/json"
    data: dict[str, Any]
    tenantid: str = Field(pattern=TENANT_ID_PATTERN)
    deliveryattempt: int = 0
    replay: bool = False

    @property
    def tenant_id(self) -> str:
        return self.tenantid


def new_event(tenant_id: str, event_type: str, key: str | int, data: dict[str, Any], *, event_id: str | None = None,
              at: datetime | None = None) -> CloudEvent:
    """Validate ``data`` against the type's schema and wrap it. ``event_id`` should be derived from the source
    (webhook id, schedule slot) so that one occurrence always has one id."""
    spec = CATALOG.get(event_type)
    if spec is None:
        raise UnknownEventType(event_type)
    validated = spec.data.model_validate(data).model_dump(mode="json", by_alias=True)
    return CloudEvent(
        id=event_id or uuid.uuid4().hex, type=event_type, tenantid=tenant_id,
        subject=f"tenants/{tenant_id}/" + spec.subject.format(tenant=tenant_id, key=key),
        time=(at or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z"), data=validated,
    )


def stable_id(*parts: object) -> str:
    """A deterministic event id from the occurrence's natural key (vendor webhook id, schedule slot...)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, "shopdesk:" + "/".join(str(p) for p in parts)).hex


def export() -> dict[str, Any]:
    queues = sorted(queue_for(a) for a in AGENTS)
    subscriptions = []
    for agent in sorted(AGENTS):
        types = sorted(t for t, s in CATALOG.items() if agent in s.agents)
        subscriptions.append({"name": f"to-{agent}", "eventTypes": types, "queue": queue_for(agent)})
    return {"queues": queues, "subscriptions": subscriptions, "topic": TOPIC}


def export_text() -> str:
    return json.dumps(export(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    if argv[:1] != ["export"]:
        print("usage: python -m core.events.catalog export [path]  (default bicep/catalog.json)")
        return 2
    path = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[2] / "bicep" / "catalog.json"
    path.write_text(export_text())
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
