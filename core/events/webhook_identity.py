"""The identity of the event a vendor webhook carries, whichever delivery brings it: the dedupe key that stops a
replay of a captured body under a new delivery id (Shopify's signature covers only the body, not the headers)."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def _digest(*parts: object) -> str:
    text = json.dumps([hashlib.sha256(p).hexdigest() if isinstance(p, bytes) else p for p in parts], default=str,
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def shopify_identity(topic: str, data: dict[str, Any], body: bytes) -> str:
    """What one Shopify event is, whichever delivery carries it: the topic, the resource and its version.

    - ``orders/*``, ``customers/create``, ``customers/update``: the resource ``id`` and its ``updated_at``;
    - ``inventory_levels/update``: ``inventory_item_id``, ``location_id``, ``updated_at`` and ``available`` (a
      level is per location, and ``updated_at`` has one-second resolution: two stock changes within one second
      are two events);
    - ``customers/delete``: the ``id`` alone (a customer is deleted once; the payload has no ``updated_at``);
    - ``customer.tags_added`` / ``customer.tags_removed``: ``customerId`` and ``occurredAt``.

    A payload without its version field falls back to a digest of the body (the signature covers the body, so a
    replay carries the same bytes). A real change of a resource has a newer ``updated_at``, hence a new identity.
    """
    if topic == "customers/delete":
        parts: list[object] = [data.get("id")]
    elif topic == "inventory_levels/update":
        parts = [data.get("inventory_item_id"), data.get("location_id"), data.get("available"),
                 data.get("updated_at") or body]
    elif topic.startswith("customer.tags_"):
        parts = [data.get("customerId"), data.get("occurredAt") or body]
    else:
        parts = [data.get("id"), data.get("updated_at") or body]
    return _digest("shopify", topic, *parts)


def zendesk_identity(payload: dict[str, Any], stamp: str, body: bytes) -> str:
    """The event ``id`` of an event-based webhook (it is inside the signed body); for a body without one, a digest
    of the signed message (timestamp and body): a replay within the window repeats both, a new occurrence is
    signed with a new timestamp."""
    if payload.get("id"):
        return _digest("zendesk", "id", payload["id"])
    return _digest("zendesk", "signed", stamp, body)
