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
import time
from datetime import UTC, datetime
from typing import Any

from core.stores.ports import DocumentStore

COLLECTION = "audit"
log = logging.getLogger("shopdesk.audit")


def audited(tenant, settings) -> bool:
    return bool(tenant is not None and (tenant.hipaa or tenant.audit or settings.AUDIT_ALL_TENANTS))


def reference(settings, tenant_id: str, value: str) -> str:
    """A keyed, tenant-bound digest of an identifier (the same value always gives the same reference)."""
    from core.auth import signing_key

    digest = hmac.new(signing_key(settings), f"{tenant_id}\x00{value}".encode(), hashlib.sha256).hexdigest()
    return f"h:{digest[:24]}"


def record(store: DocumentStore, settings, tenant, *, actor_kind: str, actor_id: str, action: str,
           resource_kind: str, resource_id: str = "", outcome: str = "ok", via: str = "",
           now: datetime | None = None) -> str | None:
    """Write one audit record if the tenant is audited; returns its id (None when not audited)."""
    if not audited(tenant, settings):
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


def record_step(step: str, payload: dict, result: Any) -> None:
    """Audit what an agent step read (called by core.telemetry.agent_step after the activity returned)."""
    from core.services import get_services
    from core.tenants import get_tenant

    state = payload.get("state", payload) if isinstance(payload, dict) else {}
    turn = state.get("turn") or {}
    tenant_id, conversation_id = turn.get("tenant_id"), turn.get("conversation_id")
    if not tenant_id:
        return
    services = get_services()
    tenant = get_tenant(tenant_id, services.store)
    if not audited(tenant, services.settings):
        return
    customer = turn.get("customer") or {}
    actor_id = str(customer.get("id") or customer.get("email") or f"conversation:{conversation_id}")
    started = time.perf_counter()
    if step == "load_turn_context":
        record(services.store, services.settings, tenant, actor_kind="customer", actor_id=actor_id,
               action="conversation.read", resource_kind="conversation", resource_id=str(conversation_id),
               via="chat")
    elif step == "lookup_shop_data" and isinstance(result, dict):
        lookup = result.get("order_lookup", "none")
        if lookup != "none":
            orders = result.get("orders") or [{}]
            for order in orders:
                number = str(order.get("order_number") or order.get("number") or "")
                record(services.store, services.settings, tenant, actor_kind="customer", actor_id=actor_id,
                       action="order.lookup", resource_kind="order", resource_id=number, outcome=lookup,
                       via="chat")
    log.debug("audit step=%s took %.1f ms", step, (time.perf_counter() - started) * 1000)
