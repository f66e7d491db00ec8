"""Escalation tickets on their way to the shop's ticket desk (Zendesk, or the sandbox outbox).

The chat turn stores the ticket and queues the hand-off; the hand-off's queue function publishes
``shopdesk.tickets.opened`` on the event bus (one event id per ticket), and the escalation agent's handler pushes
the ticket here. The event bus supplies the rest: retries with backoff, a dead letter after the last attempt, and the
operator's replay route. Pushing is idempotent: a ticket already synced is not pushed again, and the desk recognises
a retried create by its ``external_id`` (our ticket id), so one escalation never opens two desk tickets."""

from __future__ import annotations

import logging
from typing import Any

from core.agents.escalation import TICKETS
from core.events.catalog import CloudEvent, new_event, stable_id
from core.integrations.ports import IntegrationError, TicketDesk, TicketRequest
from core.models import HandoffJob
from core.stores.optimistic import read_modify_write
from core.stores.ports import DocumentStore

log = logging.getLogger("shopdesk.escalation")

OPENED = "shopdesk.tickets.opened"


def opened_event(job: HandoffJob) -> CloudEvent:
    """The bus event that carries one new ticket to the desk; the same ticket always gets the same event id."""
    return new_event(job.tenant_id, OPENED, job.ticket_id,
                     {"ticket_id": job.ticket_id, "conversation_id": job.conversation_id},
                     event_id=stable_id(job.tenant_id, "ticket-opened", job.ticket_id))


def ticket_request(ticket: dict[str, Any]) -> TicketRequest:
    customer = ticket.get("customer") or {}
    lines = [f"{k}: {v}" for turn in ticket["transcript"] for k, v in turn.items() if k in ("user", "reply") and v]
    return TicketRequest(
        subject=f"[{ticket['tenant_id']}] {ticket['reason'].replace('_', ' ')} ({ticket['id']})",
        description="\n".join(lines) or ticket["reason"], requester_email=customer.get("email"),
        requester_name=customer.get("name"), priority=ticket["priority"],
        tags=["shopdesk", ticket["reason"], f"lang-{ticket['language']}"], external_id=ticket["id"],
    )


def _set(store: DocumentStore, tenant_id: str, conversation_id: str, **changes: Any) -> None:
    read_modify_write(store, tenant_id, TICKETS, conversation_id,
                      lambda body: {**body, **changes} if body is not None else None, attempts=10)


def push_ticket(store: DocumentStore, desk: TicketDesk, tenant_id: str, conversation_id: str) -> str | None:
    """Create the conversation's ticket on the desk unless it is there already; returns the desk's ticket id (None
    for a ticket that no longer exists). A desk failure is recorded on the ticket (``desk_sync: "failed"``) and
    raised, so the event bus retries it and finally dead-letters it."""
    stored = store.get(tenant_id, TICKETS, conversation_id)
    if stored is None:
        return None
    ticket = stored.body
    if ticket.get("desk_sync") == "synced" and ticket.get("external_id"):
        return str(ticket["external_id"])
    try:
        ref = desk.create_ticket(tenant_id, ticket_request(ticket))
    except IntegrationError as exc:
        log.warning("ticket desk sync failed tenant=%s ticket=%s status=%s", tenant_id, ticket["id"], exc.status)
        _set(store, tenant_id, conversation_id, desk_sync="failed")
        raise
    _set(store, tenant_id, conversation_id, desk_sync="synced", external_id=ref.id)
    log.info("ticket pushed to the desk tenant=%s ticket=%s", tenant_id, ticket["id"])
    return ref.id
