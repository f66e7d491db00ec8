"""The changes an order action makes to a Shopify order, as Shopify makes them: pure functions from the order (the
Admin API's JSON) to the changed order, refusing (``ActionRefused``) what Shopify's status graphs forbid.

The local shop (``imported_actions``) applies them to the tenant's imported orders inside one compare-and-set; the
local Shopify stand-in applies them to the orders it serves. Returns and exchanges have no REST resource: they are
recorded on the order as a ``return-requested`` tag and a note attribute ``return:<id>`` (``exchange:<id>``) whose
value says what goes back, which both the Admin UI and ``returns_of`` read.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from .ports import ActionRefused

SHIPPED = ("fulfilled", "partial")
RETURN_TAG = "return-requested"
_RETURN_NOTE = re.compile(r"^(return|exchange):(\S+)$")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def refunded_total(order: dict[str, Any]) -> Decimal:
    return sum((Decimal(str(t.get("amount") or 0)) for r in order.get("refunds") or []
                for t in r.get("transactions") or [] if t.get("kind", "refund") == "refund"), Decimal(0))


def refundable(order: dict[str, Any]) -> Decimal:
    """What is left to refund on a paid order."""
    if order.get("financial_status") not in ("paid", "partially_paid", "partially_refunded"):
        return Decimal(0)
    return max(Decimal(str(order.get("total_price") or 0)) - refunded_total(order), Decimal(0))


def _open(order: dict[str, Any]) -> None:
    if order.get("cancelled_at"):
        raise ActionRefused("the order is cancelled", status=422)


def _unshipped(order: dict[str, Any]) -> None:
    _open(order)
    if order.get("fulfillment_status") in SHIPPED:
        raise ActionRefused("the order has been fulfilled", status=422)


def _refund_record(order: dict[str, Any], amount: Decimal, note: str, at: str) -> dict[str, Any]:
    gateway = (order.get("payment_gateway_names") or ["manual"])[0]
    return {"id": len(order.get("refunds") or []) + 1, "order_id": order.get("id"), "created_at": at, "note": note,
            "transactions": [{"kind": "refund", "status": "success", "amount": f"{amount:.2f}",
                              "currency": order.get("currency"), "gateway": gateway}]}


def cancelled(order: dict[str, Any], reason: str, *, at: str | None = None) -> dict[str, Any]:
    """Cancelled as Shopify cancels an unfulfilled order: a payment only authorized is voided, a captured one
    refunded in full."""
    _unshipped(order)
    at = at or now_iso()
    status = order.get("financial_status")
    if status in ("pending", "authorized", None):
        order["financial_status"] = "voided"
    elif refundable(order) > 0:
        order.setdefault("refunds", []).append(_refund_record(order, refundable(order), f"cancelled: {reason}", at))
        order["financial_status"] = "refunded"
    order.update(cancelled_at=at, cancel_reason=reason, closed_at=at)
    return order


ADDRESS_FIELDS = ("name", "address1", "address2", "city", "province", "zip", "country", "phone")


def with_shipping_address(order: dict[str, Any], address: dict[str, Any]) -> dict[str, Any]:
    _unshipped(order)
    current = dict(order.get("shipping_address") or {})
    current.update({k: v for k, v in address.items() if k in ADDRESS_FIELDS and v is not None})
    order["shipping_address"] = current
    return order


def with_items_changed(order: dict[str, Any], changes: list[dict[str, Any]]) -> dict[str, Any]:
    """``changes``: ``{"variant_id", "quantity"}`` (the line's new quantity; 0 removes it) and, for a variant the
    order does not hold yet, ``title`` and ``price``. Totals follow the lines."""
    _unshipped(order)
    lines = order.setdefault("line_items", [])
    for change in changes:
        variant, quantity = str(change["variant_id"]), int(change["quantity"])
        line = next((li for li in lines if str(li.get("variant_id")) == variant), None)
        if line is None and quantity > 0:
            lines.append({"id": int(variant) * 10 + len(lines) if variant.isdigit() else variant,
                          "variant_id": int(variant) if variant.isdigit() else variant,
                          "product_id": change.get("product_id"), "title": change.get("title"),
                          "variant_title": change.get("variant_title"), "quantity": quantity,
                          "price": change.get("price") or "0.00", "fulfillment_status": None})
        elif line is not None:
            line["quantity"] = quantity
    order["line_items"] = [li for li in lines if int(li.get("quantity") or 0) > 0]
    if not order["line_items"]:
        raise ActionRefused("an order needs at least one item; cancel it instead", status=422)
    old_items = Decimal(str(order.get("total_line_items_price") or 0))
    new_items = sum((Decimal(str(li.get("price") or 0)) * int(li["quantity"]) for li in order["line_items"]),
                    Decimal(0))
    order["total_line_items_price"] = f"{new_items:.2f}"
    order["subtotal_price"] = f"{Decimal(str(order.get('subtotal_price') or 0)) + new_items - old_items:.2f}"
    order["total_price"] = f"{Decimal(str(order.get('total_price') or 0)) + new_items - old_items:.2f}"
    return order


def with_return(order: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """``request``: ``id``, ``kind`` (return | exchange), ``items`` (line titles with quantities), ``reason``."""
    _open(order)
    name = f"{request['kind']}:{request['id']}"
    notes = list(order.get("note_attributes") or [])
    if not any(n.get("name") == name for n in notes):
        value = f"items: {'; '.join(request['items'])} | reason: {request['reason']} | started: {now_iso()}"
        notes.append({"name": name, "value": value})
    order["note_attributes"] = notes
    tags = [t.strip() for t in str(order.get("tags") or "").split(",") if t.strip()]
    if RETURN_TAG not in tags:
        tags.append(RETURN_TAG)
    order["tags"] = ", ".join(tags)
    return order


def with_refund(order: dict[str, Any], amount: Decimal, note: str, *, at: str | None = None) -> dict[str, Any]:
    _open(order)
    left = refundable(order)
    if amount <= 0 or amount > left:
        raise ActionRefused(f"refund exceeds the refundable amount ({left:.2f})", status=422)
    order.setdefault("refunds", []).append(_refund_record(order, amount, note, at or now_iso()))
    order["financial_status"] = "refunded" if amount == left else "partially_refunded"
    return order


def returns_of(order: dict[str, Any]) -> list[dict[str, str]]:
    """The returns and exchanges recorded on the order: ``{"id", "kind", "details"}``."""
    out = []
    for note in order.get("note_attributes") or []:
        match = _RETURN_NOTE.match(str(note.get("name") or ""))
        if match:
            out.append({"id": match.group(2), "kind": match.group(1), "details": str(note.get("value") or "")})
    return out
