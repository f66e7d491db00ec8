"""Conversation memory: what a turn knows of the conversation so far (history, slots, the customer), and what the
conversation remembers of the turn once it is answered (the record and the slots the next turn resolves from)."""

from __future__ import annotations

from datetime import UTC, datetime

from core import conversations
from core.agents import analytics, analytics_outbox
from core.conversations import ConversationState, TurnRecord
from core.models import Guardrail, TurnResult, Usage
from core.tenants import get_tenant
from core.text import tokens
from core.turn.ports import TurnPorts
from core.turn.state import RecordedTurn, TurnContext, TurnState


class UnknownTenant(LookupError):
    pass


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def load_context(state: TurnState, ports: TurnPorts) -> TurnContext:
    turn = state.turn
    tenant = get_tenant(turn.tenant_id, ports.store)
    if tenant is None:
        raise UnknownTenant(turn.tenant_id)
    conv = conversations.load(ports.store, turn.tenant_id, turn.conversation_id)
    if conv is None:
        return TurnContext(tenant=tenant, customer=turn.customer, claimed_customer=turn.claimed_customer)
    unanswered = 0
    for record in reversed(conv.turns):
        if record.escalated or record.intent == "blocked":
            break
        if record.answered:
            break
        unanswered += 1
    history = [{"user": t.user, "reply": t.reply, "intent": t.intent} for t in
               conv.turns[-ports.settings.CONVERSATION_HISTORY_TURNS:]]
    return TurnContext(
        tenant=tenant, language=conv.language, customer=turn.customer or conv.customer,
        claimed_customer=turn.claimed_customer,
        order_number=conv.slots.order_number, order_from_list=conv.slots.order_from_list,
        product_ids=conv.slots.product_ids,
        verified_email=conv.slots.verified_email, pending_action=conv.slots.action,
        action_owner=conv.slots.action_owner, history=history, unanswered_turns=unanswered,
        turn_index=len(conv.turns),
    )


#: Words a message may hold besides the e-mail address or order number it supplies and still only supply it ("oh
#: sorry, wrong one, it's …", "mi correo es …").
SUPPLIED_ONLY_WORDS = 6


def question_in_context(message: str, history: list[dict], identifiers: list[str]) -> str:
    """The question a turn answers. A message that only supplies what the previous turn asked for (an e-mail address
    or an order number, with no question of its own) answers the previous message's question: both together.
    Any other message is its own question."""
    previous = str(history[-1].get("user") or "").strip() if history else ""
    if not previous or not identifiers or "?" in message:
        return message
    rest = message
    for value in identifiers:
        rest = rest.replace(value, " ")
    if len(tokens(rest)) > SUPPLIED_ONLY_WORDS:
        return message
    return f"{previous}\n{message}"


def question(state: TurnState) -> str:
    """Pure rule: the question the turn answers (``question_in_context``), from its message, the conversation so
    far and the identifiers the intent agent found in the message."""
    if state.context is None or state.intent is None:
        return state.turn.message
    entities = state.intent.entities
    return question_in_context(state.turn.message, state.context.history, [*entities.emails,
                                                                          *entities.order_numbers])


def remember(conv: ConversationState, state: TurnState, record: TurnRecord) -> None:
    """Fold the answered turn into the conversation: its record, the language, and the slots a follow-up ("where
    is it now?", "how much is it?") resolves from."""
    turn, intent, facts, draft = state.turn, state.intent, state.facts, state.draft
    if any(t.turn_id == turn.turn_id for t in conv.turns):
        return  # activity retried after the write landed: record once
    conv.created_at = conv.created_at or record.at
    conv.updated_at = record.at
    conv.language = record.language
    if turn.customer and conv.customer is None:
        conv.customer = turn.customer
    if intent and intent.entities.order_numbers:
        conv.slots.order_number = intent.entities.order_numbers[0]
        conv.slots.order_from_list = False
    elif (intent and intent.label == "order_status" and facts.orders
          and not (state.context and state.context.order_number and not state.context.order_from_list)):
        # The customer's orders were listed, most recent first: "where is it now?" is about the latest one.
        conv.slots.order_number = facts.orders[0].order_number
        conv.slots.order_from_list = True
    if facts.products:
        conv.slots.product_ids = [p.doc_id for p in facts.products]
    elif draft and any(c.doc_id.startswith("product-") for c in draft.citations):
        conv.slots.product_ids = [c.doc_id for c in draft.citations if c.doc_id.startswith("product-")]
    if intent and intent.entities.emails and facts.order_lookup == "found":
        conv.slots.verified_email = intent.entities.emails[0]
    if state.action is not None:
        conv.slots.action = state.action.pending
        conv.slots.action_owner = state.action.owner or conv.slots.action_owner
        if state.action.order_number:  # the customer proved they own it
            conv.slots.order_number, conv.slots.order_from_list = state.action.order_number, False
            if intent and intent.entities.emails:
                conv.slots.verified_email = intent.entities.emails[0]
    if state.escalation.ticket_id:
        conv.ticket_id = state.escalation.ticket_id
    conv.turns.append(record)


def not_recorded(state: TurnState) -> bool:
    """Pure rule: the turn has no record yet (the reply the critic approved is recorded where it was composed)."""
    return state.recorded is None


#: The guardrail reason of a turn whose identity check failed: the e-mail it gave is not the one on the order it asks
#: about, so nothing of the order was disclosed.
IDENTITY_NOT_PROVEN = "identity_not_proven"


def identity_refused(state: TurnState) -> bool:
    """Pure rule: the message gave an e-mail address to prove an order is the customer's, and it is not the order's
    (someone else's order, or a mistyped address): the turn is recorded as blocked, as other attempts to reach data
    that is not the asker's are."""
    return bool(state.intent and state.intent.entities.emails and state.facts.order_lookup == "needs_verification"
                and not state.facts.orders)


def record_turn(state: TurnState, ports: TurnPorts) -> RecordedTurn:
    """Persist the turn and its slots, with the turn's analytics event in the same write; the API result and the
    event."""
    turn, draft, screen = state.turn, state.draft, state.screen
    assert draft is not None and screen is not None
    refused = identity_refused(state) and not screen.blocked
    blocked = screen.blocked or refused
    reasons = [*screen.reasons, *state.guardrail_reasons, *([IDENTITY_NOT_PROVEN] if refused else [])]
    label = state.intent.label if state.intent else "blocked"
    record = TurnRecord(turn_id=turn.turn_id, at=_now(), user=turn.message, reply=draft.reply, intent=label,
                        language=draft.language, escalated=state.escalation.escalated, answered=draft.grounded)
    result = TurnResult(
        tenant_id=turn.tenant_id, conversation_id=turn.conversation_id, turn_id=turn.turn_id,
        reply=draft.reply, language=draft.language, intent=label,
        confidence=state.intent.confidence if state.intent else 1.0,
        citations=draft.citations, escalation=state.escalation,
        guardrail=Guardrail(blocked=blocked, reasons=reasons),
        usage=Usage().plus(state.intent.usage if state.intent else None).plus(draft.usage),
        trace_id=turn.trace_id,
    )
    event = analytics.turn_event(result, at=record.at, blocked=blocked, grounded=draft.grounded)
    first = [True]

    def mutate(conv: ConversationState) -> None:
        first[0] = not any(t.turn_id == turn.turn_id for t in conv.turns)  # False: a retry after the write landed
        remember(conv, state, record)

    conversations.update(ports.store, turn.tenant_id, turn.conversation_id, mutate,
                         along=lambda: [analytics_outbox.pending_operation(event)] if first[0] else [])
    return RecordedTurn(result=result, event=event)
