"""Back-in-stock waitlist: a prospect asks in a conversation to be told when an out-of-stock product is back
("tell me when it's back", "prévenez-moi quand il revient", "avísame cuando vuelva"); the restock story e-mails
them once and removes them (unsubscribe)."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

from core import lexicon
from core.stores.ports import DocumentStore
from core.text import fold

WAITLIST = "waitlist"

# "tell me when it's back" and its French and Spanish phrasings, on accent-folded text.
_ASK = re.compile(r"\b" + lexicon.alternatives(lexicon.load("waitlist")["asks_to_be_told"]), re.IGNORECASE)


def asks_to_be_told(message: str) -> bool:
    return bool(_ASK.search(fold(message)))


def entry_id(product_id: str, email: str) -> str:
    return f"{product_id}--{hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]}"


def add(store: DocumentStore, tenant_id: str, *, product: dict[str, Any], email: str, name: str | None,
        language: str, conversation_id: str) -> str:
    """Idempotent per product and e-mail address."""
    doc_id = entry_id(str(product["id"]), email)
    items = [str(v.get("inventory_item_id")) for v in product.get("variants") or [] if v.get("inventory_item_id")]
    store.put(tenant_id, WAITLIST, doc_id, {
        "product_id": str(product["id"]), "title": product.get("title", ""), "inventory_item_ids": items,
        "email": email.strip(), "name": name, "language": language, "conversation_id": conversation_id,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    })
    return doc_id


def for_inventory_item(store: DocumentStore, tenant_id: str, inventory_item_id: str) -> list[dict[str, Any]]:
    return [{"id": d.id, **d.body} for d in store.list(tenant_id, WAITLIST, limit=100_000)
            if str(inventory_item_id) in d.body.get("inventory_item_ids", [])]


def remove(store: DocumentStore, tenant_id: str, entry: str) -> bool:
    return store.delete(tenant_id, WAITLIST, entry)


def capture(store: DocumentStore, tenant_id: str, conversation_id: str, message: str, *, products: list[Any],
            emails: list[str], language: str) -> tuple[str, str | None] | None:
    """Called by the response agent once the reply is reviewed. Returns ("added", title) / ("need_email", title)
    when the customer asked to be told about an out-of-stock product of this turn, else None."""
    if not asks_to_be_told(message):
        return None
    missing = [p for p in products if not p.in_stock]
    if not missing:
        return None
    stored = store.get(tenant_id, "products", missing[0].product_id)
    if stored is None:
        return None
    email = next((e for e in emails if e), None)
    if not email:
        return ("need_email", stored.body.get("title"))
    add(store, tenant_id, product=stored.body, email=email, name=None, language=language,
        conversation_id=conversation_id)
    return ("added", stored.body.get("title"))
