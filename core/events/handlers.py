"""One handler per agent queue, ``handler(event, ports) -> effects``. Each is idempotent on its own (upserts,
deterministic ids) and the dispatcher's receipts make a duplicate delivery a no-op; Durable work is returned as
effects. ``ports`` (built by the composition root) is what the handlers use: the store, the event ledger and each
tenant's integrations."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from core import desk_outbox, handoff
from core.agents import analytics
from core.agents.escalation import TICKETS
from core.integrations.factory import Integrations
from core.stores.optimistic import read_modify_write
from core.stores.ports import DocumentStore
from core.tenants import get_tenant, order_key

from . import notifications, operations, waitlist
from .catalog import CloudEvent
from .delivery import Effect, RaiseEvent, StartOrchestration
from .ledger import Ledger

log = logging.getLogger("shopdesk.events")


@dataclass(frozen=True)
class HandlerPorts:
    store: DocumentStore
    ledger: Ledger
    integrations_for: Callable[[str], Integrations]  # the tenant's shop data, ticket desk, notifier, analytics sink


def _merge(store: DocumentStore, tenant_id: str, collection: str, doc_id: str, changes: dict[str, Any],
           *, newer_only: bool = False) -> None:
    def change(body: dict[str, Any] | None) -> dict[str, Any] | None:
        if body and newer_only and str(changes.get("updated_at") or "") < str(body.get("updated_at") or ""):
            return None  # an older webhook arriving late never overwrites newer data
        return {**(body or {}), **changes}

    read_modify_write(store, tenant_id, collection, doc_id, change, attempts=20,
                      message=f"{collection}/{doc_id} keeps changing")


# Response agent: proactive messages -------------------------------------------------------------------------
def response_agent(event: CloudEvent, ports: HandlerPorts) -> list[Effect]:
    store = ports.store
    tenant_id, data = event.tenant_id, event.data
    if event.type == "shopify.orders.fulfilled":
        return [StartOrchestration("shipment_notification", notifications.shipment_instance(tenant_id, data),
                                   {"tenant_id": tenant_id, "order": data, "event_id": event.id})]
    if event.type == "shopify.inventory.updated":
        item = str(data["inventory_item_id"])
        if (data.get("available") or 0) > 0 and waitlist.for_inventory_item(store, tenant_id, item):
            return [StartOrchestration("back_in_stock", notifications.restock_instance(tenant_id, event.id),
                                       {"tenant_id": tenant_id, "inventory_item_id": item, "event_id": event.id})]
        return []
    if event.type == "scheduled.promotions.started":
        promo = operations.set_promotion_status(store, tenant_id, data["promotion_id"], "active",
                                                only_from=("scheduled",))
        if promo is not None and promo.status == "active":
            tenant = get_tenant(tenant_id, store)
            language = (tenant.default_language if tenant else "en")[:2]
            text = promo.title + (f": {promo.description}" if promo.description else "") + (
                f" (code {promo.code})" if promo.code else "")
            operations.publish_announcement(store, tenant_id, operations.AnnouncementIn(
                text={language if language in ("en", "fr", "es") else "en": text[:500]},
                expires_at=datetime.fromisoformat(promo.ends_at)), source="promotion", announcement_id=promo.id)
        return []
    if event.type == "scheduled.promotions.ended":
        operations.set_promotion_status(store, tenant_id, data["promotion_id"], "ended",
                                        only_from=("scheduled", "active"))
        operations.withdraw_announcement(store, tenant_id, data["promotion_id"])
        return []
    if event.type == "company.news.published":
        tenant = get_tenant(tenant_id, store)
        language = (tenant.default_language if tenant else "en")[:2]
        operations.publish_announcement(store, tenant_id, operations.AnnouncementIn(
            text={language if language in ("en", "fr", "es") else "en": data["title"][:500]},
            expires_at=datetime.now(UTC) + timedelta(days=7)), source="news", announcement_id=f"news-{event.id}")
        return []
    return []


# Escalation agent: the ticket desk's side of a hand-off -----------------------------------------------------
def _our_ticket(store: DocumentStore, tenant_id: str, data: dict[str, Any]) -> Any:
    ids = {str(data.get("ticket_id")), str(data.get("external_id") or "")} - {"", "None"}
    for doc in store.list(tenant_id, TICKETS, limit=100_000):
        if str(doc.body.get("id")) in ids or str(doc.body.get("external_id") or "") in ids:
            return doc
    return None


def escalation_agent(event: CloudEvent, ports: HandlerPorts) -> list[Effect]:
    store = ports.store
    tenant_id, data = event.tenant_id, event.data
    if event.type == desk_outbox.OPENED:
        desk_outbox.push_ticket(store, ports.integrations_for(tenant_id).tickets, tenant_id, data["conversation_id"])
        return []
    ticket = _our_ticket(store, tenant_id, data)
    if ticket is None:
        log.info("desk event for a ticket ShopDesk did not open tenant=%s type=%s", tenant_id, event.type)
        return []
    conversation_id = ticket.body["conversation_id"]
    changes: dict[str, Any] = {"desk_updated_at": event.time}
    if event.type == "zendesk.satisfaction_rating.created":
        changes["satisfaction"] = data.get("score")
    else:
        for key in ("status", "priority"):
            if data.get(key):
                changes[key] = data[key]
        if data.get("assignee_id"):
            changes["assignee"] = str(data["assignee_id"])
        if event.type == "zendesk.tickets.closed":
            changes["status"] = "solved"
    _merge(store, tenant_id, TICKETS, conversation_id, changes)
    comment = data.get("comment") or {}
    if event.type == "zendesk.tickets.updated" and comment.get("public") and (comment.get("author") or {}).get(
            "is_agent") and str(comment.get("body") or "").strip():
        reply = handoff.AgentReply(message=str(comment["body"])[:8000],
                                   agent=str((comment.get("author") or {}).get("name") or "support")[:80])

        def relay_direct() -> None:
            handoff.relay_agent_reply(store, tenant_id, conversation_id, ticket.body.get("id"), reply, event.id)

        return [RaiseEvent(handoff.instance_id(tenant_id, conversation_id), "agent_reply",
                           reply.model_dump(mode="json"), otherwise=relay_direct)]
    return []


# Knowledge agent: keeps the shop data it answers from current --------------------------------------------------
def knowledge_agent(event: CloudEvent, ports: HandlerPorts) -> list[Effect]:
    store = ports.store
    tenant_id, data = event.tenant_id, event.data
    if event.type in ("shopify.customers.created", "shopify.customers.updated"):
        _merge(store, tenant_id, "customers", str(data["id"]), data, newer_only=True)
    elif event.type == "shopify.customers.deleted":
        store.delete(tenant_id, "customers", str(data["id"]))
    elif event.type == "shopify.customers.tags_changed":
        customer_id = str(data["customerId"]).rsplit("/", 1)[-1]
        if store.get(tenant_id, "customers", customer_id):
            _merge(store, tenant_id, "customers", customer_id, {"tags": ", ".join(data.get("tags") or [])})
    elif event.type.startswith("shopify.orders."):
        _merge(store, tenant_id, "orders", order_key(data), data, newer_only=True)
    elif event.type == "shopify.inventory.updated":
        item, available = str(data["inventory_item_id"]), data.get("available")
        for doc in store.list(tenant_id, "products", limit=100_000):
            variants = doc.body.get("variants") or []
            if any(str(v.get("inventory_item_id")) == item for v in variants):
                for v in variants:
                    if str(v.get("inventory_item_id")) == item and available is not None:
                        v["old_inventory_quantity"], v["inventory_quantity"] = v.get("inventory_quantity"), available
                _merge(store, tenant_id, "products", doc.id, {"variants": variants})
    elif event.type == "scheduled.sync.products":
        count = len(ports.integrations_for(tenant_id).shop.all_products(tenant_id))
        _merge(store, tenant_id, "sync-runs", "products", {"at": event.time, "products": count, "event": event.id})
    return []


# Analytics agent: counts every event, writes reports, pushes the analytics sync ---------------------------
def analytics_agent(event: CloudEvent, ports: HandlerPorts) -> list[Effect]:
    store = ports.store
    ports.ledger.count(event.tenant_id, f"seen.{event.type}")
    if event.type in ("scheduled.reports.daily", "scheduled.reports.weekly"):
        end = datetime.fromisoformat(event.data["day"]).date()
        days = 1 if event.type.endswith("daily") else 7
        summaries = [analytics.daily_summary(store, event.tenant_id, (end - timedelta(days=i)).isoformat())
                     for i in range(days)]
        turns = sum(s.get("turns", 0) for s in summaries)
        report = {"period": event.data["period"], "day": event.data["day"], "turns": turns, "days": summaries,
                  "events": ports.ledger.statistics(event.tenant_id, days)["totals"], "at": event.time}
        store.put(event.tenant_id, "reports", f"events-{event.data['period']}-{event.data['day']}", report)
    elif event.type == "scheduled.sync.analytics":
        day = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
        summary = analytics.daily_summary(store, event.tenant_id, day)
        sink = ports.integrations_for(event.tenant_id).analytics
        sent = sink.track(event.tenant_id, f"shopdesk-{event.tenant_id}",
                          [{"name": "shopdesk_daily", "params": {"day": day, "turns": summary.get("turns", 0)}}])
        _merge(store, event.tenant_id, "sync-runs", "analytics", {"at": event.time, "events": sent})
    return []


HANDLERS = {"response": response_agent, "escalation": escalation_agent, "knowledge": knowledge_agent,
            "analytics": analytics_agent}
