"""Steps of the proactive notifications (each one a Durable activity; the orchestrators are in
blueprints/notifications.py):

- shipment: order fulfilled → compose in the customer's language → send (Notifier: Mailchimp Transactional, or the
  local outbox) → record;
- back in stock: inventory back above zero → the prospects who asked to be told → send to each → unsubscribe them.

Sends are idempotent per notification id (a retried activity finds its record and does not e-mail twice). Each step
receives the store (and the tenant's notifier) from the activity that runs it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from core.integrations.ports import EmailMessage, Notifier
from core.lexicon import Templates
from core.stores.ports import ConcurrencyError, DocumentStore
from core.tenants import get_tenant, order_key

from . import waitlist

log = logging.getLogger("shopdesk.notifications")
NOTIFICATIONS = "notifications"
# The e-mails in en / fr / es (core/agents/data/notifications.json).
TEMPLATES = Templates.from_file("notifications")


def _lang(value: str | None, fallback: str = "en") -> str:
    code = (value or "").lower()[:2]
    return code if code in ("en", "fr", "es") else (fallback[:2] if fallback[:2] in ("en", "fr", "es") else "en")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def shipment_instance(tenant_id: str, order: dict[str, Any]) -> str:
    return f"shipment--{tenant_id}--{order_key(order)}"


def restock_instance(tenant_id: str, event_id: str) -> str:
    return f"restock--{tenant_id}--{event_id}"


def compose_shipment(store: DocumentStore, tenant_id: str, order: dict[str, Any]) -> dict[str, Any] | None:
    """The e-mail for a fulfilled order, in the customer's language; None when the order has no e-mail."""
    tenant = get_tenant(tenant_id, store)
    stored = store.get(tenant_id, "orders", order_key(order))
    full = {**(stored.body if stored else {}), **order}
    customer = full.get("customer") or {}
    email = full.get("email") or customer.get("email")
    if not email:
        return None
    language = _lang(full.get("customer_locale") or customer.get("locale"), tenant.default_language if tenant
                     else "en")
    fulfillment = next((f for f in reversed(full.get("fulfillments") or []) if f.get("tracking_number")), None) \
        or (full.get("fulfillments") or [{}])[-1]
    shop = tenant.name if tenant else tenant_id
    url = fulfillment.get("tracking_url") or next(iter(fulfillment.get("tracking_urls") or []), None)
    values = {
        "number": order_key(full), "shop": shop, "name": customer.get("first_name") or full.get("name") or "",
        "items": ", ".join(str(i.get("title") or i.get("name")) for i in full.get("line_items") or []) or "—",
        "carrier": fulfillment.get("tracking_company") or "—", "tracking": fulfillment.get("tracking_number") or "—",
        "link": TEMPLATES.render("shipment_link", language, url=url) if url else "",
    }
    return {"notification_id": f"shipment-{order_key(full)}", "language": language, "to_email": email,
            "to_name": " ".join(x for x in (customer.get("first_name"), customer.get("last_name")) if x) or None,
            "subject": TEMPLATES.render("shipment_subject", language, **values),
            "text": TEMPLATES.render("shipment_body", language, **values), "order": order_key(full)}


def send_once(store: DocumentStore, notifier: Notifier, tenant_id: str, notice: dict[str, Any], kind: str
              ) -> dict[str, Any]:
    """Send ``notice`` through ``notifier`` unless its notification id was already sent; record the result."""
    existing = store.get(tenant_id, NOTIFICATIONS, notice["notification_id"])
    if existing is not None and existing.body.get("status") == "sent":
        return {"notification_id": notice["notification_id"], "status": "sent", "repeat": True}
    result = notifier.send(tenant_id, EmailMessage(
        to_email=notice["to_email"], to_name=notice.get("to_name"), subject=notice["subject"], text=notice["text"],
        tags=[kind, f"lang-{notice['language']}"]))
    store.put(tenant_id, NOTIFICATIONS, notice["notification_id"], {
        "kind": kind, "status": "sent" if result.status in ("sent", "queued", "scheduled") else result.status,
        "provider_id": result.id, "language": notice["language"], "to_email": notice["to_email"], "at": _now(),
        **({"order": notice["order"]} if "order" in notice else {}),
    })
    log.info("notification sent tenant=%s kind=%s status=%s", tenant_id, kind, result.status)
    return {"notification_id": notice["notification_id"], "status": result.status, "repeat": False}


def record_shipment(store: DocumentStore, tenant_id: str, order_number: str, notification_id: str) -> None:
    """Mark the stored order as notified (the conversation view and the order cache show it)."""
    for _ in range(10):
        stored = store.get(tenant_id, "orders", order_number)
        if stored is None:
            return
        body = {**stored.body, "shopdesk_shipment_notice": {"notification_id": notification_id, "at": _now()}}
        try:
            store.put(tenant_id, "orders", order_number, body, if_match=stored.etag)
            return
        except ConcurrencyError:
            continue


def restock_prospects(store: DocumentStore, tenant_id: str, inventory_item_id: str, event_id: str
                      ) -> list[dict[str, Any]]:
    tenant = get_tenant(tenant_id, store)
    shop = tenant.name if tenant else tenant_id
    out = []
    for entry in waitlist.for_inventory_item(store, tenant_id, inventory_item_id):
        language = _lang(entry.get("language"))
        product = store.get(tenant_id, "products", entry["product_id"])
        handle = (product.body.get("handle") if product else None)
        url = f"{tenant.shop_url.rstrip('/')}/products/{handle}" if tenant and tenant.shop_url and handle else None
        values = {"title": entry.get("title") or "", "shop": shop,
                  "link": TEMPLATES.render("restock_link", language, url=url) if url else ""}
        out.append({"entry_id": entry["id"], "notification_id": f"restock-{entry['id']}-{event_id}",
                    "language": language, "to_email": entry["email"], "to_name": entry.get("name"),
                    "subject": TEMPLATES.render("restock_subject", language, **values),
                    "text": TEMPLATES.render("restock_body", language, **values)})
    return out


def unsubscribe(store: DocumentStore, tenant_id: str, entry_ids: list[str]) -> int:
    return sum(1 for entry in entry_ids if waitlist.remove(store, tenant_id, entry))
