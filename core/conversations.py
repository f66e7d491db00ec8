"""Conversation state per tenant + conversation: history, slots (order number, products, language), customer."""

from __future__ import annotations

from pydantic import BaseModel

from core.models import CustomerRef, Language
from core.stores.optimistic import read_modify_write
from core.stores.ports import DocumentStore

COLLECTION = "conversations"


class Slots(BaseModel):
    order_number: str | None = None
    order_from_list: bool = False  # picked as the latest of a listing, not named by the customer
    product_ids: list[str] = []
    verified_email: str | None = None


class TurnRecord(BaseModel):
    turn_id: str
    at: str
    user: str
    reply: str
    intent: str
    language: Language
    escalated: bool = False
    answered: bool = True  # False when the reply had no grounding ("I don't know")


class AgentMessage(BaseModel):
    """A message from a human (support agent) or the platform after a hand-off, shown to the customer."""

    id: str
    at: str
    author: str  # "agent:<name>" or "system"
    text: str
    ticket_id: str | None = None


class ConversationState(BaseModel):
    tenant_id: str
    conversation_id: str
    customer: CustomerRef | None = None
    language: Language | None = None
    slots: Slots = Slots()
    turns: list[TurnRecord] = []
    ticket_id: str | None = None
    handoff: str | None = None  # None | waiting | answered | timed_out | closed
    agent_messages: list[AgentMessage] = []
    created_at: str | None = None
    updated_at: str | None = None


def load(store: DocumentStore, tenant_id: str, conversation_id: str) -> ConversationState | None:
    stored = store.get(tenant_id, COLLECTION, conversation_id)
    return ConversationState.model_validate(stored.body) if stored else None


def update(store: DocumentStore, tenant_id: str, conversation_id: str, mutate, *,
           attempts: int = 20) -> ConversationState:
    """Read-modify-write with ETag concurrency: two turns of one conversation never overwrite each other."""
    written: list[ConversationState] = []

    def change(body: dict | None) -> dict:
        state = (ConversationState.model_validate(body) if body
                 else ConversationState(tenant_id=tenant_id, conversation_id=conversation_id))
        mutate(state)
        written[:] = [state]
        return state.model_dump(mode="json")

    read_modify_write(store, tenant_id, COLLECTION, conversation_id, change, attempts=attempts,
                      message=f"conversation {conversation_id} is being updated too often; try again")
    return written[0]
