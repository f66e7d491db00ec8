"""Queue-triggered consumers: the analytics agent folds turn events into the tenant's counters (the queue's
messages, and on a timer the turn events a process left uncounted), and one function per agent queue consumes the
event bus (see core/events)."""

from __future__ import annotations

import functools
import logging

import azure.durable_functions as df
import azure.functions as func

from core import jsonsafe
from core.agents import analytics, analytics_outbox
from core.events.catalog import queue_for
from core.events.handlers import HANDLERS
from core.services import get_services
from core.tenants import list_tenants

bp = df.Blueprint()
log = logging.getLogger("shopdesk.events")


@bp.queue_trigger(arg_name="msg", queue_name="%ANALYTICS_QUEUE_NAME%", connection="AzureWebJobsStorage")
def analytics_events(msg: func.QueueMessage) -> None:
    """A message carries one turn event or several (``core.agents.analytics_outbox``)."""
    try:
        events = analytics_outbox.events_of_message(msg.get_body())
    except ValueError as exc:  # JsonRejected and pydantic's ValidationError are ValueErrors too
        # A malformed message can never succeed: raise so it lands in the poison queue, without logging content.
        reason = str(exc) if isinstance(exc, jsonsafe.JsonRejected) else "invalid schema"
        log.error("analytics event rejected: %s (message id %s)", reason, msg.id)
        raise ValueError("invalid analytics event") from None
    counted = analytics.record_message_events(get_services().store, events)
    log.info("analytics events tenant=%s events=%d counted=%d", ",".join(sorted({e.tenant_id for e in events})),
             len(events), sum(counted))


@bp.timer_trigger(arg_name="timer", schedule="%ANALYTICS_SWEEP_SCHEDULE%", run_on_startup=False)
def analytics_pending_sweep(timer: func.TimerRequest) -> None:
    """Count the turn events stored with their turns that the process which recorded them did not count (it stopped
    meanwhile, or the count failed); an event that keeps failing goes to the tenant's dead letters."""
    store = get_services().store
    totals = analytics_outbox.sweep(store, [tenant.id for tenant in list_tenants(store)])
    if any(totals.values()):
        log.info("analytics sweep counted=%d retried=%d dead=%d", totals["counted"], totals["retried"],
                 totals["dead"])


# Agent queues fed by the event bus (Event Grid subscriptions in Azure, the local publisher here). Each function
# hands the message to the dispatcher: rate limits, concurrency, receipts, retries and dead letters live there.
async def _deliver(agent: str, msg: func.QueueMessage, client=None) -> None:
    services = get_services()
    handler = functools.partial(HANDLERS[agent], ports=services.handler_ports())
    await services.events.dispatcher.deliver(agent, msg.get_body(), handler, client, message_id=msg.id)


@bp.queue_trigger(arg_name="msg", queue_name=queue_for("response"), connection="AzureWebJobsStorage")
@bp.durable_client_input(client_name="client")
async def response_agent_events(msg: func.QueueMessage, client: df.DurableOrchestrationClient) -> None:
    await _deliver("response", msg, client)


@bp.queue_trigger(arg_name="msg", queue_name=queue_for("escalation"), connection="AzureWebJobsStorage")
@bp.durable_client_input(client_name="client")
async def escalation_agent_events(msg: func.QueueMessage, client: df.DurableOrchestrationClient) -> None:
    await _deliver("escalation", msg, client)


@bp.queue_trigger(arg_name="msg", queue_name=queue_for("knowledge"), connection="AzureWebJobsStorage")
async def knowledge_agent_events(msg: func.QueueMessage) -> None:
    await _deliver("knowledge", msg)


@bp.queue_trigger(arg_name="msg", queue_name=queue_for("analytics"), connection="AzureWebJobsStorage")
async def analytics_agent_events(msg: func.QueueMessage) -> None:
    await _deliver("analytics", msg)
