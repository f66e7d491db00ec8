"""Escalation agent: decides when a human should take over and opens exactly one ticket per conversation."""

from __future__ import annotations

import hashlib
import logging
import re

from core.integrations.ports import IntegrationError, TicketDesk, TicketRequest
from core.models import Escalation, InputVerdict, IntentResult, OrderFacts
from core.stores.ports import ConcurrencyError, DocumentStore

log = logging.getLogger("shopdesk.escalation")

TICKETS = "tickets"


_SAFETY = re.compile(
    r"\b(allergic reaction|allergy attack|rash|hives|burn(ed|t)?|swelling|hospital|emergency|poison(ed|ing)?"
    r"|r[ée]action allergique|urticaire|br[uû]lure|enflure|h[oô]pital|urgence|empoisonn"
    r"|reacci[oó]n al[eé]rgica|sarpullido|quemadura|hinchaz[oó]n|urgencias|intoxicaci[oó]n)",
    re.I,
)
_FRUSTRATION = re.compile(
    r"(!{3,}|\b(ridiculous|unacceptable|worst|fed up|third time|still waiting|scam|inacceptable|écoeurant|"
    r"tanné|n'importe quoi|troisième fois|inaceptable|harto|harta|estafa|tercera vez)\b)",
    re.I,
)


def _amounts(values: list[str]) -> list[float]:
    out = []
    for value in values:
        match = re.search(r"\d+(?:[.,]\d{1,2})?", value)
        if match:
            out.append(float(match.group(0).replace(",", ".")))
    return out


def decide(intent: IntentResult, verdict: InputVerdict, *, unanswered_turns: int, message: str = "",
           orders: list[OrderFacts] | None = None, refund_limit: float | None = None) -> str | None:
    """The reason to escalate, or None: explicit request, safety, complaint, frustration or abuse, a refund above
    the tenant's auto-approval limit, or repeated failure to answer."""
    if verdict.blocked:
        return None
    if intent.wants_human:
        return "customer_requested_human"
    if _SAFETY.search(message):
        return "safety"
    if intent.label == "complaint_escalation" and intent.confidence >= 0.5:
        return "complaint"
    if "abusive_language" in verdict.reasons or _FRUSTRATION.search(message):
        return "frustrated_customer"
    if intent.label == "returns_refunds" and refund_limit is not None:
        asked = _amounts(intent.entities.amounts)
        totals = [float(o.total) for o in orders or [] if o.total]
        if any(a > refund_limit for a in asked) or (not asked and any(t > refund_limit for t in totals)):
            return "refund_above_limit"
    if unanswered_turns >= 2:
        return "repeated_failure"
    return None


def ticket_id_for(tenant_id: str, conversation_id: str) -> str:
    digest = hashlib.sha256(f"{tenant_id}/{conversation_id}".encode()).hexdigest()[:8].upper()
    return f"T-{digest}"


def open_ticket(store: DocumentStore, *, tenant_id: str, conversation_id: str, reason: str, language: str,
                transcript: list[dict], customer: dict | None, priority: str, created_at: str,
                desk: TicketDesk | None = None) -> Escalation:
    """Idempotent: a second escalation of the same conversation returns the existing ticket.

    The ticket document is keyed by conversation and created with if-none-match, so of N concurrent escalations
    exactly one creates it; the others read the winner's ticket. Only the creator pushes it to ``desk`` (Zendesk or
    the sandbox); a desk failure leaves ``desk_sync: "failed"`` on the ticket for a later retry.
    """
    ticket_id = ticket_id_for(tenant_id, conversation_id)
    body = {
        "id": ticket_id, "tenant_id": tenant_id, "conversation_id": conversation_id, "reason": reason,
        "priority": priority, "language": language, "status": "open", "customer": customer,
        "transcript": transcript, "created_at": created_at, "assignee": None,
    }
    for _ in range(5):
        try:
            store.put(tenant_id, TICKETS, conversation_id, body, if_none_match=True)
        except ConcurrencyError:
            existing = store.get(tenant_id, TICKETS, conversation_id)
            if existing is None:
                continue  # deleted or expired between our create and read: try to create again
            return Escalation(escalated=True, ticket_id=existing.body["id"], reason=existing.body["reason"])
        if desk is not None:
            _push_to_desk(store, desk, body)
        return Escalation(escalated=True, ticket_id=ticket_id, reason=reason)
    raise ConcurrencyError(f"ticket for conversation {conversation_id} keeps changing; retry")


def _push_to_desk(store: DocumentStore, desk: TicketDesk, ticket: dict) -> None:
    customer = ticket.get("customer") or {}
    lines = [f"{k}: {v}" for turn in ticket["transcript"] for k, v in turn.items() if k in ("user", "reply") and v]
    request = TicketRequest(
        subject=f"[{ticket['tenant_id']}] {ticket['reason'].replace('_', ' ')} ({ticket['id']})",
        description="\n".join(lines) or ticket["reason"], requester_email=customer.get("email"),
        requester_name=customer.get("name"), priority=ticket["priority"],
        tags=["shopdesk", ticket["reason"], f"lang-{ticket['language']}"], external_id=ticket["id"],
    )
    try:
        ref = desk.create_ticket(ticket["tenant_id"], request)
        patch = [{"op": "set", "path": "/desk_sync", "value": "synced"},
                 {"op": "set", "path": "/external_id", "value": ref.id}]
    except IntegrationError as exc:
        log.warning("ticket desk sync failed tenant=%s ticket=%s status=%s", ticket["tenant_id"], ticket["id"],
                    exc.status)
        patch = [{"op": "set", "path": "/desk_sync", "value": "failed"}]
    try:
        store.patch(ticket["tenant_id"], TICKETS, ticket["conversation_id"], patch)
    except (AttributeError, KeyError):
        pass  # a store without patch support, or the ticket was removed meanwhile
