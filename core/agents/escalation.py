"""Escalation agent: decides when a human should take over and opens exactly one ticket per conversation."""

from __future__ import annotations

import hashlib

from core.models import Escalation, InputVerdict, IntentResult
from core.stores.ports import ConcurrencyError, DocumentStore

TICKETS = "tickets"


def decide(intent: IntentResult, verdict: InputVerdict, *, unanswered_turns: int) -> str | None:
    """The reason to escalate, or None. Rules: explicit request, complaint, abuse, repeated failure."""
    if verdict.blocked:
        return None
    if intent.wants_human:
        return "customer_requested_human"
    if intent.label == "complaint_escalation" and intent.confidence >= 0.5:
        return "complaint"
    if "abusive_language" in verdict.reasons:
        return "frustrated_customer"
    if unanswered_turns >= 2:
        return "repeated_failure"
    return None


def ticket_id_for(tenant_id: str, conversation_id: str) -> str:
    digest = hashlib.sha256(f"{tenant_id}/{conversation_id}".encode()).hexdigest()[:8].upper()
    return f"T-{digest}"


def open_ticket(store: DocumentStore, *, tenant_id: str, conversation_id: str, reason: str, language: str,
                transcript: list[dict], customer: dict | None, priority: str, created_at: str) -> Escalation:
    """Idempotent: a second escalation of the same conversation returns the existing ticket."""
    ticket_id = ticket_id_for(tenant_id, conversation_id)
    body = {
        "id": ticket_id, "tenant_id": tenant_id, "conversation_id": conversation_id, "reason": reason,
        "priority": priority, "language": language, "status": "open", "customer": customer,
        "transcript": transcript, "created_at": created_at,
    }
    try:
        store.put(tenant_id, TICKETS, conversation_id, body, if_none_match=True)
    except ConcurrencyError:
        existing = store.get(tenant_id, TICKETS, conversation_id)
        if existing:
            return Escalation(escalated=True, ticket_id=existing.body["id"], reason=existing.body["reason"])
    return Escalation(escalated=True, ticket_id=ticket_id, reason=reason)
