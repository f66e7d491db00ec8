"""Conversation state per tenant + conversation: history, slots (order number, products, language), customer.

The text of every turn and agent message is kept with card numbers masked to their last four digits
(``core.pii.cards``): masked when a record is built or changed, and again when a stored document is read, so no path
that writes a conversation can keep a card number and none is served from one stored before.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict

from core.models import CustomerRef, Language
from core.pii.cards import mask_card_numbers
from core.stores.optimistic import read_modify_write
from core.stores.ports import DocumentStore

COLLECTION = "conversations"

#: Free text a customer or an agent wrote (or a reply quoting it): stored without card numbers.
CardSafeText = Annotated[str, AfterValidator(mask_card_numbers)]


class Slots(BaseModel):
    order_number: str | None = None
    order_from_list: bool = False  # picked as the latest of a listing, not named by the customer
    product_ids: list[str] = []
    verified_email: str | None = None
    action: dict | None = None  # an order action being prepared or awaiting the customer's yes (core.actions)
    action_owner: str | None = None  # the customer this conversation acts for, once one proved who they are


class TurnRecord(BaseModel):
    model_config = ConfigDict(validate_assignment=True)

    turn_id: str
    at: str
    user: CardSafeText
    reply: CardSafeText
    intent: str
    language: Language
    escalated: bool = False
    answered: bool = True  # False when the reply had no grounding ("I don't know")


class AgentMessage(BaseModel):
    """A message from a human (support agent) or the platform after a hand-off, shown to the customer."""

    model_config = ConfigDict(validate_assignment=True)

    id: str
    at: str
    author: str  # "agent:<name>" or "system"
    text: CardSafeText
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
           attempts: int = 20, along=None) -> ConversationState:
    """Read-modify-write with ETag concurrency: two turns of one conversation never overwrite each other.
    ``along`` gives documents written in the same atomic batch (``core.stores.optimistic.read_modify_write``)."""
    written: list[ConversationState] = []

    def change(body: dict | None) -> dict:
        state = (ConversationState.model_validate(body) if body
                 else ConversationState(tenant_id=tenant_id, conversation_id=conversation_id))
        mutate(state)
        written[:] = [state]
        return state.model_dump(mode="json")

    read_modify_write(store, tenant_id, COLLECTION, conversation_id, change, attempts=attempts, along=along,
                      message=f"conversation {conversation_id} is being updated too often; try again")
    return written[0]


def masked_document(body: dict[str, Any]) -> dict[str, Any]:
    """A stored conversation document as it may leave the store (archives): the same document, with card numbers
    masked in the text of its turns and agent messages, whenever it was written."""

    def masked(item: Any, fields: tuple[str, ...]) -> Any:
        if not isinstance(item, dict):
            return item
        return {**item, **{k: mask_card_numbers(item[k]) for k in fields if isinstance(item.get(k), str)}}

    out = dict(body)
    if isinstance(body.get("turns"), list):
        out["turns"] = [masked(t, ("user", "reply")) for t in body["turns"]]
    if isinstance(body.get("agent_messages"), list):
        out["agent_messages"] = [masked(m, ("text",)) for m in body["agent_messages"]]
    return out
