"""What the action policy reads from an order (Shopify's JSON): its stage on the status graphs, its owner, when it
was delivered, the refunds on its record, and a fingerprint that changes whenever the order does."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from core.integrations.imported_shop import order_facts
from core.integrations.order_changes import SHIPPED, refundable  # noqa: F401  (re-exported for the policy)
from core.text import fold

# The fields an action's proposal depends on: if any of them changes, the customer confirmed another order.
_FINGERPRINT_FIELDS = ("cancelled_at", "financial_status", "fulfillment_status", "line_items", "shipping_address",
                       "refunds", "fulfillments", "note_attributes", "total_price")


def stage(order: dict[str, Any]) -> str:
    """unfulfilled | partially_shipped | shipped | delivered | cancelled | refunded."""
    return order_facts(order).status


def number(order: dict[str, Any]) -> str | None:
    """The order's number as a customer writes it, without "#"; None when the record has none."""
    return str(order.get("order_number") or order.get("name") or "").lstrip("#") or None


def owner_keys(order: dict[str, Any]) -> set[str]:
    """Who the order belongs to: ``email:<address>`` for each e-mail on it and ``id:<customer id>``."""
    customer = order.get("customer") or {}
    keys = {f"email:{fold(e)}" for e in (order.get("email"), order.get("contact_email"), customer.get("email")) if e}
    if customer.get("id") not in (None, ""):
        keys.add(f"id:{customer['id']}")
    return keys


def fingerprint(order: dict[str, Any]) -> str:
    relevant = {k: order.get(k) for k in _FINGERPRINT_FIELDS}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _when(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")) if text else None
    except ValueError:
        return None


def delivered_at(order: dict[str, Any]) -> datetime | None:
    """When the last delivered shipment arrived (its fulfillment's last update), else when the order was placed."""
    delivered = [f for f in order.get("fulfillments") or [] if f.get("shipment_status") == "delivered"]
    if delivered:
        return _when(delivered[-1].get("updated_at") or delivered[-1].get("created_at"))
    return _when(order.get("created_at"))


def within_return_window(order: dict[str, Any], days: int, now: datetime) -> bool:
    start = delivered_at(order)
    return start is not None and now - start <= timedelta(days=days)


def line_label(line: dict[str, Any], quantity: int | None = None) -> str:
    variant = f" ({line['variant_title']})" if line.get("variant_title") else ""
    return f"{quantity if quantity is not None else line.get('quantity', 1)} × {line.get('title')}{variant}"


def refunds_made(order: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(amount, date) of each refund on the order's record: its transactions' sum (a refund written without
    transactions, its own amount)."""
    made = []
    for refund in order.get("refunds") or []:
        transactions = [t for t in refund.get("transactions") or [] if t.get("kind", "refund") == "refund"]
        total = sum((Decimal(str(t.get("amount") or 0)) for t in transactions), Decimal(0)) if transactions \
            else Decimal(str(refund.get("amount") or 0))
        if total > 0:
            made.append((f"{total:.2f}", (refund.get("created_at") or "")[:10] or None))
    return made
