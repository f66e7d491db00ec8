"""The ``conversation_turn`` orchestration, its activities, and the timer that purges finished histories.

The orchestrator is pure: it only sequences activities and evaluates pure rules on their JSON results.
Activities parse JSON → call ``core.pipeline`` (one agent, or an agent and the critic that guards it) → return
JSON.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import azure.durable_functions as df
import azure.functions as func

from core import pipeline
from core.agents import analytics
from core.pipeline import TurnState
from core.services import get_services
from core.telemetry import agent_step

bp = df.Blueprint()
log = logging.getLogger("shopdesk.orchestration")

_RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=500, max_number_of_attempts=3)

#: Azure keeps an orchestration's custom status only up to 16 KB of JSON; a larger result waits for the output.
REPLY_STATUS_MAX_CHARS = 12_000
_TURN_IDS = {"tenant_id", "conversation_id", "turn_id", "trace_id"}

#: What each activity reads of the turn state. Each step gets only these fields: every replay of the orchestrator
#: serialises every input again, and Durable keeps each input in the history (tests/unit/test_step_inputs.py
#: checks these against what the core.pipeline functions read).
STEP_FIELDS: dict[str, set[str]] = {
    "understand_message": {"turn"},
    "retrieve_knowledge": {"turn", "intent"},
    "lookup_shop_data": {"turn", "context", "intent"},
    "lookup_cited_products": {"turn", "context", "citations"},
    "escalate": {"turn", "context", "screen"},
    "compose_and_review": {"turn", "context", "screen", "intent", "citations", "facts", "escalation",
                           "retry_feedback"},
    "fallback_response": {"turn", "screen", "intent"},
    "record_turn": {"turn", "context", "screen", "intent", "facts", "escalation", "draft", "guardrail_reasons"},
}


@bp.orchestration_trigger(context_name="context")
def conversation_turn(context: df.DurableOrchestrationContext):
    state = TurnState(turn=pipeline.TurnInput.model_validate(context.get_input()))

    def step(name: str):
        return context.call_activity_with_retry(name, _RETRY, state.model_dump(mode="json",
                                                                              include=STEP_FIELDS[name]))

    understood = pipeline.Understanding.model_validate((yield step("understand_message")))
    state.context, state.screen, state.intent = understood.context, understood.screen, understood.intent
    if not state.screen.blocked:
        citations, facts = yield context.task_all([step("retrieve_knowledge"), step("lookup_shop_data")])
        state.citations = [pipeline.Citation.model_validate(c) for c in citations]
        state.facts = pipeline.ShopFacts.model_validate(facts)
        if pipeline.needs_cited_products(state):
            state.facts.products = [pipeline.ProductFacts.model_validate(p)
                                    for p in (yield step("lookup_cited_products"))]
        reason = pipeline.escalation_reason(state)
        if reason:
            state.escalation = pipeline.Escalation.model_validate(
                (yield context.call_activity_with_retry("escalate", _RETRY, {
                    "state": state.model_dump(mode="json", include=STEP_FIELDS["escalate"]), "reason": reason}))
            )
    reviewed = pipeline.ReviewedDraft.model_validate((yield step("compose_and_review")))
    state.draft, state.review = reviewed.draft, reviewed.review
    if not state.review.ok and state.draft.usage.provider != "offline":
        # One retry with the critic's reasons; offline drafts are deterministic, so a retry would not change them.
        state.guardrail_reasons = [f"output:{r}" for r in state.review.reasons]
        state.retry_feedback = state.review.reasons
        reviewed = pipeline.ReviewedDraft.model_validate((yield step("compose_and_review")))
        state.draft, state.review = reviewed.draft, reviewed.review
    if not state.review.ok:
        state.guardrail_reasons.extend(f"output:{r}" for r in state.review.reasons)
        state.draft = pipeline.Draft.model_validate((yield step("fallback_response")))
        state.guardrail_reasons.append("output:fallback_used")
    if not context.is_replaying:
        log.info("turn composed tenant=%s conversation=%s", state.turn.tenant_id, state.turn.conversation_id)
    recorded = pipeline.RecordedTurn.model_validate((yield step("record_turn")))
    result = recorded.result.model_dump(mode="json")
    # The turn is recorded: the chat endpoint answers from this status while the analytics event is queued.
    if len(json.dumps(result)) <= REPLY_STATUS_MAX_CHARS:
        context.set_custom_status({"stage": "replied", "result": result})
    yield context.call_activity_with_retry("publish_turn_event", _RETRY, {
        "turn": state.turn.model_dump(mode="json", include=_TURN_IDS), "event": recorded.event.model_dump(mode="json")})
    return result


def _state(payload: dict) -> TurnState:
    return TurnState.model_validate(payload)


@agent_step("load_turn_context", audit=True)
def load_turn_context(payload: dict) -> dict:
    return pipeline.load_context(_state(payload)).model_dump(mode="json")


@agent_step("critic_input")
def critic_input(payload: dict) -> dict:
    return pipeline.screen_input(_state(payload)).model_dump(mode="json")


@agent_step("classify_intent")
def classify_intent(payload: dict) -> dict:
    return pipeline.classify_intent(_state(payload)).model_dump(mode="json")


@bp.activity_trigger(input_name="payload")
def understand_message(payload: dict) -> dict:
    """The conversation so far, the input critic, then (only for a message it lets through) the intent agent:
    one activity, so a turn makes one Durable round trip for all three, and a blocked message never reaches a
    model. Each keeps its own span."""
    context = load_turn_context(payload)
    payload = {**payload, "context": context}
    screen = critic_input(payload)
    intent = None if screen["blocked"] else classify_intent({**payload, "screen": screen})
    return {"context": context, "screen": screen, "intent": intent}


@bp.activity_trigger(input_name="payload")
@agent_step("retrieve_knowledge")
def retrieve_knowledge(payload: dict) -> list:
    return [c.model_dump(mode="json") for c in pipeline.retrieve_knowledge(_state(payload))]


@bp.activity_trigger(input_name="payload")
@agent_step("lookup_shop_data", audit=True)
def lookup_shop_data(payload: dict) -> dict:
    return pipeline.lookup_shop_data(_state(payload)).model_dump(mode="json")


@bp.activity_trigger(input_name="payload")
@agent_step("lookup_cited_products")
def lookup_cited_products(payload: dict) -> list:
    return [p.model_dump(mode="json") for p in pipeline.products_from_citations(_state(payload))]


@bp.activity_trigger(input_name="payload")
@agent_step("escalate")
def escalate(payload: dict) -> dict:
    return pipeline.escalate(_state(payload["state"]), payload["reason"]).model_dump(mode="json")


@agent_step("compose_response")
def compose_response(payload: dict) -> dict:
    return pipeline.compose_response(_state(payload)).model_dump(mode="json")


@agent_step("critic_output")
def critic_output(payload: dict) -> dict:
    return pipeline.review_response(_state(payload)).model_dump(mode="json")


@bp.activity_trigger(input_name="payload")
def compose_and_review(payload: dict) -> dict:
    """The response agent's draft and the critic's review of it, in one activity (one Durable round trip);
    the orchestrator decides on a retry or the fallback."""
    draft = compose_response(payload)
    review = critic_output({**payload, "draft": draft})
    return {"draft": draft, "review": review}


@bp.activity_trigger(input_name="payload")
@agent_step("fallback_response")
def fallback_response(payload: dict) -> dict:
    return pipeline.fallback_response(_state(payload)).model_dump(mode="json")


@bp.activity_trigger(input_name="payload")
@agent_step("record_turn")
def record_turn(payload: dict) -> dict:
    return pipeline.record_turn(_state(payload)).model_dump(mode="json")


@bp.activity_trigger(input_name="payload")
@agent_step("publish_turn_event")
def publish_turn_event(payload: dict) -> None:
    pipeline.publish_turn_event(analytics.TurnEvent.model_validate(payload["event"]))


_FINISHED = [df.OrchestrationRuntimeStatus.Completed, df.OrchestrationRuntimeStatus.Failed,
             df.OrchestrationRuntimeStatus.Terminated]


@bp.timer_trigger(arg_name="timer", schedule="%DURABLE_PURGE_SCHEDULE%", run_on_startup=False)
@bp.durable_client_input(client_name="client")
async def purge_durable_history(timer: func.TimerRequest, client: df.DurableOrchestrationClient) -> None:
    """Delete the Durable history of finished orchestrations created more than DURABLE_RETENTION_DAYS ago.

    Every turn's history holds the customer's message and the reply; without a purge the task hub keeps them
    (and grows) for ever. Running and suspended orchestrations (a handoff waiting for an agent) are never touched."""
    cutoff = datetime.now(UTC) - timedelta(days=get_services().settings.DURABLE_RETENTION_DAYS)
    result = await client.purge_instance_history_by(created_time_from=datetime(2000, 1, 1, tzinfo=UTC),
                                                    created_time_to=cutoff, runtime_status=_FINISHED)
    log.info("durable history purged: %d instances created before %s", result.instances_deleted,
             cutoff.isoformat(timespec="seconds"))
