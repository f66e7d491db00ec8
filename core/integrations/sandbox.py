"""Local sandboxes for the outgoing integrations: tickets, emails and analytics events are recorded in the
tenant's ``outbox`` collection, where an operator lists them (``python -m core.integrations outbox <tenant>``).
Incoming shop data comes from ``ImportedShop`` (the tenant's imported Shopify exports)."""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from core.pii.cards import mask_card_numbers
from core.stores.ports import DocumentStore

from .ports import EmailMessage, SendResult, TicketRef, TicketRequest

OUTBOX = "outbox"


def _record_id(kind: str) -> str:
    # Sortable by time, unique across workers.
    return f"{kind}-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class _Outbox:
    def __init__(self, store: DocumentStore):
        self._store = store

    def record(self, tenant_id: str, kind: str, payload: dict[str, Any], record_id: str | None = None) -> str:
        record_id = record_id or _record_id(kind)
        self._store.put(tenant_id, OUTBOX, record_id, {"kind": kind, "at": _now(), **payload})
        return record_id


class SandboxTicketDesk(_Outbox):
    def create_ticket(self, tenant_id: str, ticket: TicketRequest) -> TicketRef:
        if ticket.external_id:
            for doc in self._store.list(tenant_id, OUTBOX, prefix="ticket-", limit=100_000):
                if doc.body.get("external_id") == ticket.external_id:
                    return TicketRef(id=doc.id, status=doc.body.get("status", "new"))
        record_id = self.record(tenant_id, "ticket", {**asdict(ticket), "status": "new", "comments": []},
                                _record_id("ticket"))
        return TicketRef(id=record_id, status="new")

    def update_ticket(self, tenant_id: str, ticket_id: str, *, status: str | None = None,
                      assignee_id: str | None = None, comment: str | None = None, public: bool = False) -> TicketRef:
        ops: list[dict[str, Any]] = []
        if status:
            ops.append({"op": "set", "path": "/status", "value": status})
        if assignee_id:
            ops.append({"op": "set", "path": "/assignee_id", "value": assignee_id})
        if comment:
            ops.append({"op": "add", "path": "/comments/-",
                        "value": {"body": mask_card_numbers(comment), "public": public, "at": _now()}})
        doc = self._store.patch(tenant_id, OUTBOX, ticket_id, ops) if ops else self._store.get(
            tenant_id, OUTBOX, ticket_id)
        if doc is None:
            raise KeyError(ticket_id)
        return TicketRef(id=ticket_id, status=doc.body.get("status", "new"))

    def list_comments(self, tenant_id: str, ticket_id: str) -> list[dict[str, Any]]:
        doc = self._store.get(tenant_id, OUTBOX, ticket_id)
        return list(doc.body.get("comments", [])) if doc else []


class SandboxNotifier(_Outbox):
    def send(self, tenant_id: str, message: EmailMessage) -> SendResult:
        return SendResult(id=self.record(tenant_id, "email", asdict(message)), status="sent")


class SandboxAnalyticsSink(_Outbox):
    def track(self, tenant_id: str, client_id: str, events: list[dict[str, Any]]) -> int:
        self.record(tenant_id, "event", {"client_id": client_id, "events": events})
        return len(events)


def list_outbox(store: DocumentStore, tenant_id: str, kind: str | None = None,
                limit: int = 1000) -> list[dict[str, Any]]:
    prefix = f"{kind}-" if kind else ""
    return [{"id": d.id, **d.body} for d in store.list(tenant_id, OUTBOX, prefix=prefix, limit=limit)]
