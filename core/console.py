"""What the operator console reads about a shop's conversations: the list (filtered by hand-off state, language
and day) and one conversation's transcript with its feedback. Always within one tenant's partition."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core import conversations, feedback
from core.models import Language
from core.stores.ports import DocumentStore

DAY_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
CLOSED_HANDOFFS = ("closed", "timed_out")


class ConversationFilter(BaseModel):
    """The console's filters (query parameters of the conversation list)."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["all", "escalated", "open"] = Field(
        default="all", description="escalated: handed to a person; open: handed over and not yet closed")
    language: Language | None = None
    since: str | None = Field(default=None, pattern=DAY_PATTERN, description="First day (YYYY-MM-DD, UTC)")
    until: str | None = Field(default=None, pattern=DAY_PATTERN, description="Last day (YYYY-MM-DD, UTC)")
    limit: int = Field(default=100, ge=1, le=500)


def is_open(state: conversations.ConversationState) -> bool:
    """Handed to a person, who has not closed it (and it did not time out)."""
    return state.ticket_id is not None and state.handoff not in CLOSED_HANDOFFS


def summary(state: conversations.ConversationState) -> dict:
    last = state.turns[-1] if state.turns else None
    return {"conversation_id": state.conversation_id, "created_at": state.created_at, "updated_at": state.updated_at,
            "language": state.language, "turns": len(state.turns), "escalated": state.ticket_id is not None,
            "open": is_open(state), "ticket_id": state.ticket_id, "handoff": state.handoff,
            "last_message": last.user[:200] if last else None,
            "agent_messages": len(state.agent_messages)}


def list_conversations(store: DocumentStore, tenant_id: str, wanted: ConversationFilter) -> list[dict]:
    """The tenant's conversations matching the filter, the most recently active first."""
    found = []
    for doc in store.list(tenant_id, conversations.COLLECTION, limit=100_000):
        state = conversations.ConversationState.model_validate(doc.body)
        day = (state.updated_at or state.created_at or "")[:10]
        if wanted.status == "escalated" and state.ticket_id is None:
            continue
        if wanted.status == "open" and not is_open(state):
            continue
        if wanted.language and state.language != wanted.language:
            continue
        if (wanted.since and day < wanted.since) or (wanted.until and day > wanted.until):
            continue
        found.append(state)
    found.sort(key=lambda s: s.updated_at or s.created_at or "", reverse=True)
    return [summary(state) for state in found[:wanted.limit]]


def transcript(store: DocumentStore, tenant_id: str, conversation_id: str) -> dict | None:
    """One conversation as the operator reads it: every message in order (customer, desk, person), with the
    customer's feedback on each reply. None when the tenant has no such conversation."""
    state = conversations.load(store, tenant_id, conversation_id)
    if state is None:
        return None
    votes = feedback.for_conversation(store, tenant_id, conversation_id)
    messages: list[dict] = []
    for turn in state.turns:
        given = votes.get(turn.turn_id)
        messages.append({"at": turn.at, "author": "customer", "text": turn.user, "turn_id": turn.turn_id})
        messages.append({"at": turn.at, "author": "assistant", "text": turn.reply, "turn_id": turn.turn_id,
                         "intent": turn.intent, "language": turn.language, "escalated": turn.escalated,
                         "feedback": given.model_dump(include={"rating", "comment", "at"}) if given else None})
    for message in state.agent_messages:
        messages.append({"at": message.at, "author": message.author, "text": message.text})
    messages.sort(key=lambda m: m["at"])  # stable: a turn's question stays before its reply
    return {**summary(state), "customer": state.customer.model_dump(mode="json") if state.customer else None,
            "messages": messages}
