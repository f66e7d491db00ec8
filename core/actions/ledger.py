"""Each order action's outcome kept under its id (collection ``actions`` of the tenant): the id is derived from the
conversation and the confirmed proposal, so a retried turn or a replayed activity finds the action done and returns
its outcome instead of acting again. The write itself is idempotent too (the shop adapters recognise the action id),
which covers a crash between the write and this record."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from core.events.catalog import stable_id
from core.stores.ports import ConcurrencyError, DocumentStore

COLLECTION = "actions"


def action_id(tenant_id: str, conversation_id: str, proposal_id: str) -> str:
    return "A-" + stable_id(tenant_id, "order-action", conversation_id, proposal_id)[:20]


def done(store: DocumentStore, tenant_id: str, key: str) -> dict[str, Any] | None:
    stored = store.get(tenant_id, COLLECTION, key)
    return stored.body if stored is not None and stored.body.get("status") == "done" else None


def once(store: DocumentStore, tenant_id: str, key: str, record: dict[str, Any],
         run: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], bool]:
    """``run()`` unless the action is recorded done; returns (its outcome, whether this call ran it)."""
    finished = done(store, tenant_id, key)
    if finished is not None:
        return finished["outcome"], False
    at = datetime.now(UTC).isoformat(timespec="milliseconds")
    try:
        store.put(tenant_id, COLLECTION, key, {**record, "status": "started", "at": at}, if_none_match=True)
    except ConcurrencyError:
        pass  # started before (a retry): the write below is idempotent by the action id
    outcome = run()
    store.put(tenant_id, COLLECTION, key, {**record, "status": "done", "at": at, "outcome": outcome})
    return outcome, True


def mark_published(store: DocumentStore, tenant_id: str, key: str) -> None:
    """The action's CloudEvent is on the bus (a retry after a failed publish sends it again, under the same id)."""
    stored = store.get(tenant_id, COLLECTION, key)
    if stored is not None:
        store.put(tenant_id, COLLECTION, key, {**stored.body, "published": True})
