"""ACID where money and tickets are involved: inventory reservations, order/payment status transitions and
ticket assignment, as optimistic-concurrency operations on the document store.

- A reservation moves stock from ``available`` to ``reserved`` and creates the reservation record in one atomic
  batch (SQLite transaction locally, Cosmos DB transactional batch in the tenant's partition): the ETag check on
  the inventory document means two buyers can never take the same unit, and the reservation id makes a retried
  request a no-op.
- Order status transitions follow Shopify's status graphs and are compare-and-set on the order's ETag.
- A ticket is assigned once: the first agent wins, the same agent re-assigning is a no-op.

- An order action (``change_order``: a cancellation, a new address, changed items, a refund, a return request) is one
  compare-and-set of the order document that also records the action's id on it, so a repeated action changes
  nothing more; the order actions of the chat (``core.actions``) write through it.

tests/unit/test_stores_acid.py holds them to their guarantees under real thread contention.
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .ports import BatchError, BatchOperation, ConcurrencyError, DocumentStore

INVENTORY = "inventory"
RESERVATIONS = "reservations"
ORDERS = "orders"
TICKETS = "tickets"


class OutOfStock(RuntimeError):
    def __init__(self, variant_id: str, requested: int, available: int):
        super().__init__(f"variant {variant_id}: {requested} requested, {available} available")
        self.variant_id, self.requested, self.available = variant_id, requested, available


class InvalidTransition(ValueError):
    """The order is not in a state from which this transition is allowed."""


class AlreadyAssigned(RuntimeError):
    def __init__(self, ticket: str, assignee: str):
        super().__init__(f"ticket {ticket} is already assigned")
        self.assignee = assignee


class UnknownItem(LookupError):
    """No inventory, order or ticket under that id for this tenant."""


@dataclass(frozen=True)
class Reservation:
    id: str
    variant_id: str
    quantity: int
    status: str


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, min(0.002 * 2**attempt, 0.05)))


def _compare_and_set(store: DocumentStore, tenant_id: str, container: str, key: str, what: str,
                     change: Callable[[dict[str, Any]], dict[str, Any]], attempts: int) -> dict[str, Any]:
    """Read one document, ``change`` its body and write the result back on the ETag it was read with, again while
    another writer wins. ``change`` returns the body it was given to leave the document as it is, and raises to
    refuse the change."""
    for attempt in range(attempts):
        stored = store.get(tenant_id, container, key)
        if stored is None:
            raise UnknownItem(f"{what} {key}")
        updated = change(stored.body)
        if updated is stored.body:
            return updated
        try:
            store.put(tenant_id, container, key, updated, if_match=stored.etag)
            return updated
        except ConcurrencyError:
            _backoff(attempt)
    raise ConcurrencyError(f"{what} {key} is too contended; retry")


# Inventory ------------------------------------------------------------------------------------------------------
def _variant_stock(store: DocumentStore, tenant_id: str, variant_id: str) -> dict[str, Any] | None:
    """The imported catalogue's stock for a variant (Shopify ``inventory_quantity``), to seed the ledger."""
    for product in store.list(tenant_id, "products", limit=100_000):
        for variant in product.body.get("variants") or []:
            if str(variant.get("id")) == variant_id:
                tracked = bool(variant.get("inventory_management"))
                return {"variant_id": variant_id, "product_id": str(product.body.get("id")),
                        "sku": variant.get("sku"), "available": max(int(variant.get("inventory_quantity") or 0), 0),
                        "reserved": 0, "tracked": tracked,
                        "oversell": variant.get("inventory_policy") == "continue", "updated_at": _now()}
    return None


def set_inventory(store: DocumentStore, tenant_id: str, variant_id: str, available: int, **extra: Any) -> str:
    """Set a variant's available stock (a sync from Shopify inventory levels, or tests)."""
    body = {"variant_id": variant_id, "available": int(available), "reserved": 0, "tracked": True,
            "oversell": False, "updated_at": _now(), **extra}
    current = store.get(tenant_id, INVENTORY, variant_id)
    if current is not None:
        body["reserved"] = current.body.get("reserved", 0)
        return store.put(tenant_id, INVENTORY, variant_id, body, if_match=current.etag)
    return store.put(tenant_id, INVENTORY, variant_id, body, if_none_match=True)


def reserve_inventory(store: DocumentStore, tenant_id: str, variant_id: str, quantity: int, reservation_id: str, *,
                      attempts: int = 200) -> Reservation:
    """Take ``quantity`` units for ``reservation_id``; never oversells; a retried request returns the same result."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    for attempt in range(attempts):
        existing = store.get(tenant_id, RESERVATIONS, reservation_id)
        if existing is not None:
            b = existing.body
            return Reservation(reservation_id, b["variant_id"], b["quantity"], b["status"])
        inventory = store.get(tenant_id, INVENTORY, variant_id)
        if inventory is None:
            seed = _variant_stock(store, tenant_id, variant_id)
            if seed is None:
                raise UnknownItem(f"variant {variant_id}")
            try:
                store.put(tenant_id, INVENTORY, variant_id, seed, if_none_match=True)
            except ConcurrencyError:
                pass  # someone else seeded it first
            continue
        level = inventory.body
        available = int(level.get("available", 0))
        if level.get("tracked", True) and not level.get("oversell") and available < quantity:
            raise OutOfStock(variant_id, quantity, available)
        updated = {**level, "available": available - quantity, "reserved": int(level.get("reserved", 0)) + quantity,
                   "updated_at": _now()}
        record = {"id": reservation_id, "variant_id": variant_id, "quantity": quantity, "status": "held",
                  "created_at": _now()}
        try:
            store.batch(tenant_id, [
                BatchOperation("replace", INVENTORY, variant_id, updated, if_match=inventory.etag),
                BatchOperation("create", RESERVATIONS, reservation_id, record),
            ])
            return Reservation(reservation_id, variant_id, quantity, "held")
        except BatchError:
            _backoff(attempt)
    raise ConcurrencyError(f"inventory {variant_id} is too contended; retry the reservation")


def _settle(store: DocumentStore, tenant_id: str, reservation_id: str, status: str, attempts: int) -> Reservation:
    for attempt in range(attempts):
        stored = store.get(tenant_id, RESERVATIONS, reservation_id)
        if stored is None:
            raise UnknownItem(f"reservation {reservation_id}")
        res = stored.body
        if res["status"] != "held":
            if res["status"] == status:
                return Reservation(reservation_id, res["variant_id"], res["quantity"], status)
            raise InvalidTransition(f"reservation {reservation_id} is {res['status']}, cannot become {status}")
        inventory = store.get(tenant_id, INVENTORY, res["variant_id"])
        if inventory is None:
            raise UnknownItem(f"variant {res['variant_id']}")
        level = dict(inventory.body)
        level["reserved"] = max(int(level.get("reserved", 0)) - res["quantity"], 0)
        if status == "released":
            level["available"] = int(level.get("available", 0)) + res["quantity"]
        level["updated_at"] = _now()
        try:
            store.batch(tenant_id, [
                BatchOperation("replace", INVENTORY, res["variant_id"], level, if_match=inventory.etag),
                BatchOperation("replace", RESERVATIONS, reservation_id, {**res, "status": status,
                                                                        "settled_at": _now()},
                               if_match=stored.etag),
            ])
            return Reservation(reservation_id, res["variant_id"], res["quantity"], status)
        except BatchError:
            _backoff(attempt)
    raise ConcurrencyError(f"reservation {reservation_id} is too contended; retry")


def release_reservation(store: DocumentStore, tenant_id: str, reservation_id: str, *,
                        attempts: int = 200) -> Reservation:
    """Give the units back (cart abandoned, payment failed). Idempotent."""
    return _settle(store, tenant_id, reservation_id, "released", attempts)


def commit_reservation(store: DocumentStore, tenant_id: str, reservation_id: str, *,
                       attempts: int = 200) -> Reservation:
    """The order was placed: the reserved units leave stock for good. Idempotent."""
    return _settle(store, tenant_id, reservation_id, "committed", attempts)


# Order and payment status ---------------------------------------------------------------------------------------
# Shopify's financial_status and fulfillment_status graphs (a status may repeat: partial refunds, partial shipments).
PAYMENT_TRANSITIONS: dict[str | None, set[str]] = {
    None: {"pending", "authorized", "paid"},
    "pending": {"authorized", "partially_paid", "paid", "voided"},
    "authorized": {"partially_paid", "paid", "voided"},
    "partially_paid": {"partially_paid", "paid", "partially_refunded", "refunded"},
    "paid": {"partially_refunded", "refunded"},
    "partially_refunded": {"partially_refunded", "refunded"},
    "refunded": set(),
    "voided": set(),
}
FULFILLMENT_TRANSITIONS: dict[str | None, set[str]] = {
    None: {"partial", "fulfilled", "restocked"},
    "unfulfilled": {"partial", "fulfilled", "restocked"},
    "partial": {"partial", "fulfilled", "restocked"},
    "fulfilled": set(),
    "restocked": set(),
}
_GRAPHS = {"financial_status": PAYMENT_TRANSITIONS, "fulfillment_status": FULFILLMENT_TRANSITIONS}


def transition_order(store: DocumentStore, tenant_id: str, order_key: str, field: str, to: str, *,
                     event_id: str | None = None, attempts: int = 50) -> dict[str, Any]:
    """Move ``financial_status`` or ``fulfillment_status`` along its graph, compare-and-set on the ETag.

    ``event_id`` (a webhook or payment id) makes a redelivered event a no-op even for repeatable statuses.
    """
    graph = _GRAPHS.get(field)
    if graph is None:
        raise ValueError(f"unknown status field {field!r}")

    def move(order: dict[str, Any]) -> dict[str, Any]:
        history = list(order.get("shopdesk_status_history") or [])
        if event_id and any(h.get("event_id") == event_id for h in history):
            return order
        current = order.get(field)
        if to not in graph.get(current, set()):
            if current == to and not event_id:
                return order  # replay of a transition that already landed
            raise InvalidTransition(f"order {order_key}: {field} {current!r} -> {to!r} is not allowed")
        if order.get("cancelled_at") and field == "fulfillment_status" and to != "restocked":
            raise InvalidTransition(f"order {order_key} is cancelled")
        history.append({"field": field, "from": current, "to": to, "at": _now(), "event_id": event_id})
        return {**order, field: to, "updated_at": _now(), "shopdesk_status_history": history}

    return _compare_and_set(store, tenant_id, ORDERS, order_key, "order", move, attempts)


def check_transition(order_key: str, field: str, current: str | None, to: str) -> None:
    """``InvalidTransition`` unless ``field`` may go from ``current`` to ``to`` on Shopify's graph."""
    if to != current and to not in _GRAPHS[field].get(current, set()):
        raise InvalidTransition(f"order {order_key}: {field} {current!r} -> {to!r} is not allowed")


def change_order(store: DocumentStore, tenant_id: str, order_key: str, action_id: str,
                 mutate: Callable[[dict[str, Any]], dict[str, Any]], *, attempts: int = 50) -> dict[str, Any]:
    """Apply ``mutate`` (the current order -> the changed order; it raises ``InvalidTransition`` when the order's
    state forbids the change) as one compare-and-set on the order's ETag, recording ``action_id`` on the order.
    An action already recorded returns the order unchanged: a retried action never applies twice."""

    def apply(order: dict[str, Any]) -> dict[str, Any]:
        done = list(order.get("shopdesk_actions") or [])
        if action_id in done:
            return order
        updated = mutate(copy.deepcopy(order))
        for field in _GRAPHS:
            check_transition(order_key, field, order.get(field), updated.get(field))
        return {**updated, "updated_at": _now(), "shopdesk_actions": [*done, action_id]}

    return _compare_and_set(store, tenant_id, ORDERS, order_key, "order", apply, attempts)


# Tickets --------------------------------------------------------------------------------------------------------
def assign_ticket(store: DocumentStore, tenant_id: str, ticket_key: str, agent_id: str, *,
                  attempts: int = 50) -> dict[str, Any]:
    """Assign a ticket (keyed like ``open_ticket`` stores it: by conversation id) to exactly one human agent."""

    def assign(ticket: dict[str, Any]) -> dict[str, Any]:
        assignee = ticket.get("assignee")
        if assignee == agent_id:
            return ticket
        if assignee:
            raise AlreadyAssigned(str(ticket.get("id", ticket_key)), assignee)
        return {**ticket, "assignee": agent_id, "assigned_at": _now(),
                "status": "pending" if ticket.get("status") == "open" else ticket.get("status")}

    return _compare_and_set(store, tenant_id, TICKETS, ticket_key, "ticket", assign, attempts)
