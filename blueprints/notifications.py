"""Proactive notifications as Durable orchestrations (their steps are in core/events/notifications.py):
``shipment_notification`` (an order was fulfilled) and ``back_in_stock`` (a product the customer waits for is in
stock again). Started by the response agent's queue handler with deterministic instance ids, so a duplicate event
never starts a second one."""

from __future__ import annotations

import azure.durable_functions as df

from core.events import notifications
from core.services import get_services

bp = df.Blueprint()
RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=1000, max_number_of_attempts=5)


@bp.orchestration_trigger(context_name="context")
def shipment_notification(context: df.DurableOrchestrationContext):
    job = context.get_input()
    notice = yield context.call_activity("compose_shipment_notice", job)
    if notice is None:
        return {"state": "skipped", "reason": "no_email"}
    sent = yield context.call_activity_with_retry("send_notification", RETRY,
                                                  {"tenant_id": job["tenant_id"], "notice": notice,
                                                   "kind": "shipment"})
    yield context.call_activity("record_shipment_notice", {"tenant_id": job["tenant_id"], "order": notice["order"],
                                                           "notification_id": sent["notification_id"]})
    return {"state": "sent", "language": notice["language"], "notification_id": sent["notification_id"]}


@bp.orchestration_trigger(context_name="context")
def back_in_stock(context: df.DurableOrchestrationContext):
    job = context.get_input()
    prospects = yield context.call_activity("find_restock_prospects", job)
    sends = [context.call_activity_with_retry("send_notification", RETRY,
                                              {"tenant_id": job["tenant_id"], "notice": p, "kind": "back_in_stock"})
             for p in prospects]
    results = (yield context.task_all(sends)) if sends else []
    done = [p["entry_id"] for p, r in zip(prospects, results, strict=True) if r["status"] in ("sent", "queued",
                                                                                               "scheduled")]
    removed = yield context.call_activity("unsubscribe_prospects", {"tenant_id": job["tenant_id"], "entries": done})
    return {"state": "sent", "notified": len(done), "unsubscribed": removed}


@bp.activity_trigger(input_name="payload")
def compose_shipment_notice(payload: dict) -> dict | None:
    return notifications.compose_shipment(get_services().store, payload["tenant_id"], payload["order"])


@bp.activity_trigger(input_name="payload")
def send_notification(payload: dict) -> dict:
    services = get_services()
    notifier = services.integrations_for(payload["tenant_id"]).notifier
    return notifications.send_once(services.store, notifier, payload["tenant_id"], payload["notice"], payload["kind"])


@bp.activity_trigger(input_name="payload")
def record_shipment_notice(payload: dict) -> None:
    notifications.record_shipment(get_services().store, payload["tenant_id"], payload["order"],
                                  payload["notification_id"])


@bp.activity_trigger(input_name="payload")
def find_restock_prospects(payload: dict) -> list:
    return notifications.restock_prospects(get_services().store, payload["tenant_id"], payload["inventory_item_id"],
                                     payload["event_id"])


@bp.activity_trigger(input_name="payload")
def unsubscribe_prospects(payload: dict) -> int:
    return notifications.unsubscribe(get_services().store, payload["tenant_id"], payload["entries"])
