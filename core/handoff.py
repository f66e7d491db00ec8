"""Human hand-off: after an escalation, a support agent's reply reaches the customer's conversation; if nobody
answers within the tenant's time limit the customer is told, in their language, how they will be contacted.

An agent's reply has its card numbers masked to their last four digits as soon as it is read, so neither the
hand-off's Durable history (the raised event) nor the conversation ever holds one."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from core import conversations
from core.agents.escalation import TICKETS
from core.conversations import AgentMessage, ConversationState
from core.lexicon import Templates
from core.models import HandoffJob
from core.pii.cards import mask_card_numbers
from core.stores.optimistic import read_modify_write
from core.stores.ports import ConcurrencyError, DocumentStore


class AgentReply(BaseModel):
    """What a support agent (or the Zendesk webhook) sends back for the customer."""

    model_config = {"extra": "forbid"}
    message: Annotated[str, Field(min_length=1, max_length=8000), AfterValidator(mask_card_numbers)]
    agent: str = Field(default="support", min_length=1, max_length=80)
    close_ticket: bool = False


# What the customer is told when nobody answered in time, in their language.
TEMPLATES = Templates.from_file("handoff")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _set_ticket(store: DocumentStore, tenant_id: str, conversation_id: str, **changes: object) -> None:
    """Update the conversation's ticket if it has one; a ticket that stays contended keeps its status."""
    try:
        read_modify_write(store, tenant_id, TICKETS, conversation_id,
                          lambda body: {**body, **changes} if body is not None else None, attempts=10)
    except ConcurrencyError:
        pass


def mark_waiting(store: DocumentStore, job: HandoffJob) -> None:
    def mutate(conv: ConversationState) -> None:
        if conv.handoff is None:
            conv.handoff = "waiting"

    conversations.update(store, job.tenant_id, job.conversation_id, mutate)


def relay_agent_reply(store: DocumentStore, tenant_id: str, conversation_id: str, ticket_id: str | None,
                      reply: AgentReply, message_id: str) -> ConversationState:
    """Append the agent's reply to the conversation once (``message_id`` makes retries harmless)."""

    def mutate(conv: ConversationState) -> None:
        if any(m.id == message_id for m in conv.agent_messages):
            return
        conv.agent_messages.append(AgentMessage(id=message_id, at=_now(), author=f"agent:{reply.agent}",
                                                text=reply.message,
                                                ticket_id=ticket_id or conv.ticket_id))
        conv.handoff = "closed" if reply.close_ticket else "answered"
        conv.updated_at = _now()

    state = conversations.update(store, tenant_id, conversation_id, mutate)
    _set_ticket(store, tenant_id, conversation_id, status="solved" if reply.close_ticket else "answered",
                updated_at=_now())
    return state


def relay_without_handoff(store: DocumentStore, tenant_id: str, conversation_id: str, reply: AgentReply
                          ) -> ConversationState:
    """An agent's reply when no hand-off is waiting (the conversation was never escalated, or its hand-off timed
    out): it still reaches the customer, under the conversation's ticket if it has one."""
    state = conversations.load(store, tenant_id, conversation_id)
    return relay_agent_reply(store, tenant_id, conversation_id, state.ticket_id if state else None, reply,
                             uuid.uuid4().hex)


def time_out(store: DocumentStore, job: HandoffJob, message_id: str) -> ConversationState:
    text = TEMPLATES.render("timeout", job.language[:2], ticket=job.ticket_id)

    def mutate(conv: ConversationState) -> None:
        if any(m.id == message_id for m in conv.agent_messages):
            return
        conv.agent_messages.append(AgentMessage(id=message_id, at=_now(), author="system", text=text,
                                                ticket_id=job.ticket_id))
        conv.handoff = "timed_out"
        conv.updated_at = _now()

    state = conversations.update(store, job.tenant_id, job.conversation_id, mutate)
    _set_ticket(store, job.tenant_id, job.conversation_id, status="awaiting_agent", updated_at=_now())
    return state


def instance_id(tenant_id: str, conversation_id: str) -> str:
    return f"handoff--{tenant_id}--{conversation_id}"
