"""The ``conversation_turn`` orchestration, its activities, and the timer that purges finished histories.

The turn's steps and activities are declared in ``core.turn.steps``; this module runs that plan on Durable. The
orchestrator is pure: it evaluates the plan's rules on the JSON results of the activities and schedules the next
ones. Each activity parses its JSON, runs its steps with the ports the composition root built
(``core.turn.runner``) and returns JSON.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import azure.durable_functions as df
import azure.functions as func

from core.models import TurnInput
from core.services import get_services
from core.turn import steps
from core.turn.runner import run_activity
from core.turn.state import TurnState

bp = df.Blueprint()
log = logging.getLogger("shopdesk.orchestration")

_RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=500, max_number_of_attempts=3)


@bp.orchestration_trigger(context_name="context")
def conversation_turn(context: df.DurableOrchestrationContext):
    state = TurnState(turn=TurnInput.model_validate(context.get_input()))
    for stage in steps.REPLY:
        yield from _run(context, state, stage)
    assert state.recorded is not None
    if not context.is_replaying:
        log.info("turn recorded tenant=%s conversation=%s", state.turn.tenant_id, state.turn.conversation_id)
    # The turn's analytics event was stored with its record: the turn ends with its reply.
    return state.recorded.result.model_dump(mode="json")


def _run(context: df.DurableOrchestrationContext, state: TurnState, stage: steps.Stage):
    """Schedule the stage's due activities together and fold their results into ``state``."""
    due = [activity for activity in stage if activity.due(state)]
    for activity in due:
        if activity.prepare is not None:
            activity.prepare(state)
    tasks = [context.call_activity_with_retry(a.name, _RETRY, a.payload(state)) for a in due]
    if not tasks:
        return
    results = (yield context.task_all(tasks)) if len(tasks) > 1 else [(yield tasks[0])]
    for activity, result in zip(due, results, strict=True):
        activity.apply(state, result or {})


def _register(activity: steps.Activity) -> None:
    def run(payload: dict) -> dict:
        return run_activity(activity, payload, get_services().turn_ports())

    run.__name__ = run.__qualname__ = activity.name  # the activity's name in the Functions app
    run.__doc__ = f"Activity {activity.name}: steps {', '.join(s.name for s in activity.steps)}."
    bp.activity_trigger(input_name="payload")(run)


for _activity in steps.ACTIVITIES.values():
    _register(_activity)


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
