"""Data-access audit log for HIPAA tenants (and any tenant with ``audit`` or ``AUDIT_ALL_TENANTS``).

One record per access — who (actor kind + a keyed hash of the actor id), what (action, resource kind, a keyed
hash of the resource id), when (UTC), outcome — in the tenant's own partition of the document store (collection
``audit``), kept ``AUDIT_RETENTION_DAYS``. Records never hold raw PII: order numbers, e-mails and customer ids
are HMAC-SHA256 digests under the platform key, so an auditor holding a value can find its records but a record
alone does not reveal it. Ids are time-ordered so listing returns records in order.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import UTC, datetime
from typing import Any

from core.auth import signing_key
from core.models import ShopFacts, TurnInput
from core.stores.ports import DocumentStore

COLLECTION = "audit"
log = logging.getLogger("shopdesk.audit")


def audited(tenant, settings) -> bool:
    return bool(tenant is not None and (tenant.hipaa or tenant.audit or settings.AUDIT_ALL_TENANTS))


def reference(settings, tenant_id: str, value: str) -> str:
    """A keyed, tenant-bound digest of an identifier (the same value always gives the same reference)."""
    digest = hmac.new(signing_key(settings), f"{tenant_id}\x00{value}".encode(), hashlib.sha256).hexdigest()
    return f"h:{digest[:24]}"


def record(store: DocumentStore, settings, tenant, *, actor_kind: str, actor_id: str, action: str,
           resource_kind: str, resource_id: str = "", outcome: str = "ok", via: str = "",
           now: datetime | None = None, always: bool = False) -> str | None:
    """Write one audit record if the tenant is audited, or ``always`` (a change made to the shop's data on a
    customer's word, whatever the tenant); returns its id (None when not recorded)."""
    if tenant is None or not (always or audited(tenant, settings)):
        return None
    at = now or datetime.now(UTC)
    record_id = f"{int(at.timestamp() * 1000):013d}-{secrets.token_hex(4)}"
    body: dict[str, Any] = {
        "at": at.isoformat(timespec="milliseconds"),
        "tenantId": tenant.id,
        "actor": {"kind": actor_kind, "ref": reference(settings, tenant.id, actor_id) if actor_id else "",
                  "via": via},
        "action": action,
        "resource": {"kind": resource_kind,
                     "ref": reference(settings, tenant.id, resource_id) if resource_id else ""},
        "outcome": outcome,
    }
    store.put(tenant.id, COLLECTION, record_id, body, ttl_seconds=settings.AUDIT_RETENTION_DAYS * 86400)
    log.info("audit tenant=%s action=%s resource=%s outcome=%s", tenant.id, action, resource_kind, outcome)
    return record_id


def list_records(store: DocumentStore, tenant_id: str, limit: int = 1000) -> list[dict[str, Any]]:
    return [d.body for d in sorted(store.list(tenant_id, COLLECTION, limit=limit), key=lambda d: d.id)]


def _customer_ref(turn: TurnInput) -> str:
    customer = turn.customer
    return str((customer.id or customer.email) if customer else "") or f"conversation:{turn.conversation_id}"


def conversation_read(store: DocumentStore, settings, tenant, turn: TurnInput, context: Any) -> None:
    """A chat turn read the conversation so far (its ``load_context`` step)."""
    record(store, settings, tenant, actor_kind="customer", actor_id=_customer_ref(turn), action="conversation.read",
           resource_kind="conversation", resource_id=turn.conversation_id, via="chat")


def order_lookups(store: DocumentStore, settings, tenant, turn: TurnInput, facts: ShopFacts) -> None:
    """A chat turn looked orders up (its ``lookup_shop_data`` step): one record per order, with the outcome."""
    if facts.order_lookup == "none":
        return
    for order in facts.orders or [None]:
        record(store, settings, tenant, actor_kind="customer", actor_id=_customer_ref(turn), action="order.lookup",
               resource_kind="order", resource_id=order.order_number if order else "", outcome=facts.order_lookup,
               via="chat")
