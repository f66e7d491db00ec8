"""Incoming vendor webhooks: signature checks per vendor spec, replay window, dedupe, and the mapping of vendor
payloads to catalog CloudEvents.

- Shopify: ``X-Shopify-Hmac-Sha256`` = base64(HMAC-SHA256(secret, raw body)); ``X-Shopify-Topic``,
  ``X-Shopify-Webhook-Id`` (unique per delivery attempt group), ``X-Shopify-Triggered-At``.
- Zendesk: ``X-Zendesk-Webhook-Signature`` = base64(HMAC-SHA256(secret, timestamp + raw body)) with
  ``X-Zendesk-Webhook-Signature-Timestamp``; event-based webhook bodies carry an event ``id``.

Dedupe is twofold, per tenant and vendor: the delivery id (a vendor's own retry repeats it) and the identity of the
event the body describes. The identity is what stops a replay: Shopify's signature covers only the body, so a
captured body re-sent with a new webhook id and a fresh timestamp verifies, but it describes the same event
(see ``webhook_identity``). Both receipts live for ``EVENTS_RETENTION_DAYS``.

Secrets are app settings named by ``SHOPIFY_WEBHOOK_SECRET_NAME`` / ``ZENDESK_WEBHOOK_SECRET_NAME`` (``{TENANT}``
placeholder); they are never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from core import jsonsafe
from core.config import tenant_setting
from core.pii.cards import mask_card_numbers
from core.stores.ports import ConcurrencyError, DocumentStore
from core.tenants import order_key

from .catalog import CloudEvent, UnknownEventType, new_event, stable_id
from .webhook_identity import shopify_identity, zendesk_identity

log = logging.getLogger("shopdesk.webhooks")
RECEIPTS = "webhook-receipts"

SHOPIFY_TOPICS = {
    "customers/create": "shopify.customers.created",
    "customers/update": "shopify.customers.updated",
    "customers/delete": "shopify.customers.deleted",
    "customer.tags_added": "shopify.customers.tags_changed",
    "customer.tags_removed": "shopify.customers.tags_changed",
    "orders/create": "shopify.orders.created",
    "orders/paid": "shopify.orders.paid",
    "orders/fulfilled": "shopify.orders.fulfilled",
    "orders/cancelled": "shopify.orders.cancelled",
    "inventory_levels/update": "shopify.inventory.updated",
}


class WebhookRejected(Exception):
    def __init__(self, status: int, title: str, detail: str):
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


@dataclass
class Delivery:
    """A verified webhook: the vendor's delivery id, the identity of the event it carries, the events to publish."""

    delivery_id: str
    identity: str
    events: list[CloudEvent]


def secret_for(name_template: str, tenant_id: str, environ: dict[str, str] | None = None) -> bytes:
    name, value = tenant_setting(name_template, tenant_id, environ)
    if not value:
        log.warning("webhook rejected tenant=%s: signing secret setting %s is not set", tenant_id, name)
        raise WebhookRejected(401, "Unauthorized", "The signature could not be verified.")
    return value.encode()


def _header(headers: Any, name: str) -> str:
    value = headers.get(name) or headers.get(name.lower())
    return str(value).strip() if value else ""


def _signature(secret: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret, message, hashlib.sha256).digest()).decode()


def _check(expected: str, given: str, tenant_id: str, vendor: str) -> None:
    if not given or not hmac.compare_digest(expected.encode(), given.encode()):
        log.warning("webhook rejected vendor=%s tenant=%s: bad signature", vendor, tenant_id)
        raise WebhookRejected(401, "Unauthorized", "The signature could not be verified.")


def _fresh(stamp: str, max_age: int, now: datetime, tenant_id: str, vendor: str) -> None:
    try:
        at = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
    except ValueError:
        at = None
    if at is None or abs((now - at).total_seconds()) > max_age:
        log.warning("webhook rejected vendor=%s tenant=%s: timestamp outside the %d s window", vendor, tenant_id,
                    max_age)
        raise WebhookRejected(401, "Unauthorized", "The webhook timestamp is missing or outside the allowed window.")


def verify_shopify(secret: bytes, body: bytes, headers: Any, *, tenant_id: str, max_age: int,
                   now: datetime | None = None) -> None:
    _check(_signature(secret, body), _header(headers, "X-Shopify-Hmac-Sha256"), tenant_id, "shopify")
    _fresh(_header(headers, "X-Shopify-Triggered-At"), max_age, now or datetime.now(UTC), tenant_id, "shopify")


def verify_zendesk(secret: bytes, body: bytes, headers: Any, *, tenant_id: str, max_age: int,
                   now: datetime | None = None) -> None:
    stamp = _header(headers, "X-Zendesk-Webhook-Signature-Timestamp")
    _check(_signature(secret, stamp.encode() + body), _header(headers, "X-Zendesk-Webhook-Signature"), tenant_id,
           "zendesk")
    _fresh(stamp, max_age, now or datetime.now(UTC), tenant_id, "zendesk")


def _receipt_id(vendor: str, key: str) -> str:
    # Keys come from headers and bodies: a digest keeps the document id short and free of reserved characters.
    return f"{vendor}--{hashlib.sha256(key.encode()).hexdigest()[:40]}"


def claim(store: DocumentStore, tenant_id: str, vendor: str, key: str, ttl_seconds: int) -> bool:
    """True the first time ``key`` (a delivery id or an event identity) is seen for this tenant and vendor."""
    try:
        store.put(tenant_id, RECEIPTS, _receipt_id(vendor, key),
                  {"at": datetime.now(UTC).isoformat(timespec="seconds")}, if_none_match=True,
                  ttl_seconds=ttl_seconds)
        return True
    except ConcurrencyError:
        return False


def claim_delivery(store: DocumentStore, tenant_id: str, vendor: str, delivery: Delivery, ttl_seconds: int) -> bool:
    """True when neither the delivery id nor the event's identity has been seen: False for a vendor retry and for
    a replay of the same event under another delivery id."""
    return (claim(store, tenant_id, vendor, f"delivery:{delivery.delivery_id}", ttl_seconds)
            and claim(store, tenant_id, vendor, f"event:{delivery.identity}", ttl_seconds))


def release_delivery(store: DocumentStore, tenant_id: str, vendor: str, delivery: Delivery) -> None:
    """Forget a claimed delivery whose events could not be published, so the vendor's retry is processed."""
    for key in (f"delivery:{delivery.delivery_id}", f"event:{delivery.identity}"):
        store.delete(tenant_id, RECEIPTS, _receipt_id(vendor, key))


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = jsonsafe.loads(body)
    except jsonsafe.JsonRejected as exc:
        raise WebhookRejected(400, "Malformed JSON", f"The webhook body is not accepted as JSON: {exc}.") from None
    if not isinstance(data, dict):
        raise WebhookRejected(400, "Malformed JSON", "The webhook body must be a JSON object.")
    return data


def _object(value: object, field: str) -> dict[str, Any]:
    """A nested object of the payload ({} when absent); anything else than an object is a 422 naming ``field``."""
    if not value:
        return {}
    if not isinstance(value, dict):
        raise WebhookRejected(422, "Invalid payload", f"Missing or invalid field(s): {field}.")
    return value


def _event(tenant_id: str, event_type: str, key: object, data: dict[str, Any], event_id: str) -> CloudEvent:
    try:
        return new_event(tenant_id, event_type, str(key), data, event_id=event_id)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
        raise WebhookRejected(422, "Invalid payload", f"Missing or invalid field(s): {', '.join(fields)}.") from None
    except UnknownEventType:
        raise WebhookRejected(422, "Unsupported event", f"No catalog type {event_type!r}.") from None


def shopify_events(tenant_id: str, headers: Any, body: bytes) -> Delivery:
    topic = _header(headers, "X-Shopify-Topic")
    delivery = _header(headers, "X-Shopify-Webhook-Id") or _header(headers, "X-Shopify-Event-Id")
    if not delivery:
        raise WebhookRejected(400, "Missing header", "X-Shopify-Webhook-Id is required.")
    event_type = SHOPIFY_TOPICS.get(topic)
    if event_type is None:
        raise WebhookRejected(422, "Unsupported topic", f"Topic {topic[:60]!r} is not subscribed.")
    data = _json(body)
    if event_type.startswith("shopify.orders."):
        key: object = order_key(data) if data.get("id") is not None else ""
    elif event_type == "shopify.inventory.updated":
        key = data.get("inventory_item_id", "")
    elif event_type == "shopify.customers.tags_changed":
        key = re.sub(r".*/", "", str(data.get("customerId", "")))
    else:
        key = data.get("id", "")
    identity = shopify_identity(topic, data, body)
    return Delivery(delivery, identity, [_event(tenant_id, event_type, key, data,
                                                stable_id("shopify", tenant_id, identity))])


_ZENDESK_STATUS_CLOSED = {"solved", "closed"}


def zendesk_events(tenant_id: str, headers: Any, body: bytes) -> Delivery:
    payload = _json(body)
    delivery = str(payload.get("id") or _header(headers, "X-Zendesk-Webhook-Invocation-Id"))
    if not delivery:
        raise WebhookRejected(400, "Missing id", "The event body has no id and no invocation id header was sent.")
    identity = zendesk_identity(payload, _header(headers, "X-Zendesk-Webhook-Signature-Timestamp"), body)
    kind = str(payload.get("type", "")).removeprefix("zen:event-type:")
    detail = _object(payload.get("detail"), "detail")
    change = _object(payload.get("event"), "event")
    ticket_id = detail.get("id") or str(payload.get("subject", "")).removeprefix("zen:ticket:")
    data: dict[str, Any] = {
        "ticket_id": ticket_id, "external_id": detail.get("external_id"),
        "status": str(detail.get("status") or "").lower() or None,
        "priority": str(detail.get("priority") or "").lower() or None,
        "assignee_id": detail.get("assignee_id"),
    }
    if "satisfaction" in kind:
        rating = _object(detail.get("satisfaction_rating"), "detail.satisfaction_rating")
        score = change.get("current") or change.get("score") or rating.get("score")
        event_type, data = "zendesk.satisfaction_rating.created", {"ticket_id": ticket_id, "score": str(score or "")}
    elif kind == "ticket.created":
        event_type = "zendesk.tickets.created"
    elif kind == "ticket.priority_changed":
        event_type = "zendesk.tickets.priority_changed"
    elif kind in ("ticket.agent_assignment_changed", "ticket.assignee_changed"):
        event_type = "zendesk.tickets.assigned"
        data["assignee_id"] = change.get("current") or data["assignee_id"]
    elif kind == "ticket.status_changed" and str(change.get("current", "")).lower() in _ZENDESK_STATUS_CLOSED:
        event_type = "zendesk.tickets.closed"
    elif kind.startswith("ticket."):
        event_type = "zendesk.tickets.updated"
        comment = change.get("comment") if isinstance(change.get("comment"), dict) else None
        if comment:
            author = _object(comment.get("author"), "event.comment.author")
            # The comment is queued as an event and kept in the event log: card numbers are masked where it enters.
            data["comment"] = {"body": mask_card_numbers(str(comment.get("body") or "")),
                               "public": bool(comment.get("is_public")),
                               "author": {"is_agent": bool(author.get("is_staff")), "name": author.get("name")}}
    else:
        raise WebhookRejected(422, "Unsupported event", f"Zendesk event {kind[:60]!r} is not subscribed.")
    return Delivery(delivery, identity, [_event(tenant_id, event_type, ticket_id, data,
                                                stable_id("zendesk", tenant_id, identity))])
