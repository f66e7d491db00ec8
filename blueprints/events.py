"""Queue-triggered consumers: the analytics agent folds each turn event into the tenant's daily counters."""

from __future__ import annotations

import logging

import azure.functions as func
from pydantic import ValidationError

from core.agents import analytics
from core.services import get_services

bp = func.Blueprint()
log = logging.getLogger("shopdesk.events")


@bp.queue_trigger(arg_name="msg", queue_name="%ANALYTICS_QUEUE_NAME%", connection="AzureWebJobsStorage")
def analytics_events(msg: func.QueueMessage) -> None:
    try:
        event = analytics.TurnEvent.model_validate_json(msg.get_body())
    except ValidationError:
        # A malformed message can never succeed: raise so it lands in the poison queue, without logging content.
        log.error("analytics event rejected: invalid schema (message id %s)", msg.id)
        raise ValueError("invalid analytics event") from None
    counted = analytics.record_event(get_services().store, event)
    log.info("analytics event tenant=%s counted=%s", event.tenant_id, counted)
