"""Human hand-off: escalation events send the ticket to the shop's desk and start a ``human_handoff`` orchestration
that waits for the support agent's reply (a durable external event) with a timeout and relays it to the customer's
conversation; the operator route a support agent answers through."""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta

import azure.durable_functions as df
import azure.functions as func
from pydantic import ValidationError

from blueprints.operator_access import operator_tenant
from blueprints.problems import json_body, json_response, problem, validation_problem
from core import audit, conversations, desk_outbox, handoff, jsonsafe
from core.models import CONVERSATION_ID_PATTERN
from core.services import get_services

bp = df.Blueprint()
log = logging.getLogger("shopdesk.handoff")


@bp.queue_trigger(arg_name="msg", queue_name="%ESCALATION_QUEUE_NAME%", connection="AzureWebJobsStorage")
@bp.durable_client_input(client_name="client")
async def escalation_events(msg: func.QueueMessage, client: df.DurableOrchestrationClient) -> None:
    try:
        job = handoff.HandoffJob.model_validate(jsonsafe.loads(msg.get_body()))
    except (jsonsafe.JsonRejected, ValidationError) as exc:
        # Never succeeds on retry: raise so the host moves it to the poison queue (content not logged).
        reason = str(exc) if isinstance(exc, jsonsafe.JsonRejected) else "invalid schema"
        log.error("escalation event rejected: %s (message id %s)", reason, msg.id)
        raise ValueError("invalid escalation event") from None
    # The ticket goes to the shop's desk through the event bus (retries, dead letters, replay): core/desk_outbox.py.
    get_services().events.bus.publish([desk_outbox.opened_event(job)])
    instance = handoff.instance_id(job.tenant_id, job.conversation_id)
    status = await client.get_status(instance)
    if status and status.runtime_status in (df.OrchestrationRuntimeStatus.Running,
                                            df.OrchestrationRuntimeStatus.Pending):
        return  # already waiting for this conversation's agent
    await client.start_new("human_handoff", instance, job.model_dump(mode="json"))
    log.info("handoff started tenant=%s ticket=%s", job.tenant_id, job.ticket_id)


@bp.orchestration_trigger(context_name="context")
def human_handoff(context: df.DurableOrchestrationContext):
    job = handoff.HandoffJob.model_validate(context.get_input())
    if job.replies == 0:
        yield context.call_activity("handoff_waiting", job.model_dump(mode="json"))
    context.set_custom_status({"state": "waiting_for_agent", "ticket_id": job.ticket_id, "replies": job.replies})
    deadline = context.current_utc_datetime + timedelta(minutes=job.timeout_minutes)
    reply_event = context.wait_for_external_event("agent_reply")
    timeout = context.create_timer(deadline)
    winner = yield context.task_any([reply_event, timeout])
    if winner == reply_event:
        timeout.cancel()
        data = reply_event.result
        reply = handoff.AgentReply.model_validate(json.loads(data) if isinstance(data, str) else data)
        yield context.call_activity("relay_agent_reply", {"job": job.model_dump(mode="json"),
                                                          "reply": reply.model_dump(mode="json"),
                                                          "message_id": str(context.new_uuid())})
        if reply.close_ticket:
            return {"state": "closed", "replies": job.replies + 1}
        job.replies += 1
        context.continue_as_new(job.model_dump(mode="json"))  # keep listening, with a fresh deadline
        return None
    yield context.call_activity("handoff_timed_out", {"job": job.model_dump(mode="json"),
                                                      "message_id": str(context.new_uuid())})
    return {"state": "timed_out", "replies": job.replies}


@bp.activity_trigger(input_name="payload")
def handoff_waiting(payload: dict) -> None:
    handoff.mark_waiting(get_services().store, handoff.HandoffJob.model_validate(payload))


@bp.activity_trigger(input_name="payload")
def relay_agent_reply(payload: dict) -> dict:
    job = handoff.HandoffJob.model_validate(payload["job"])
    reply = handoff.AgentReply.model_validate(payload["reply"])
    handoff.relay_agent_reply(get_services().store, job.tenant_id, job.conversation_id, job.ticket_id, reply,
                              payload["message_id"])
    return {"relayed": True}


@bp.activity_trigger(input_name="payload")
def handoff_timed_out(payload: dict) -> dict:
    job = handoff.HandoffJob.model_validate(payload["job"])
    handoff.time_out(get_services().store, job, payload["message_id"])
    return {"timed_out": True}


def _ids(req: func.HttpRequest) -> tuple[str, str, func.HttpResponse | None]:
    """The route's tenant and conversation once the operator is allowed on this tenant (the same rules as the rest
    of the operator API: an operator token or Entra principal of another shop is refused)."""
    services = get_services()
    tenant_id = req.route_params.get("tenant", "")
    conversation_id = req.route_params.get("conversation_id", "")
    tenant, principal, refused = operator_tenant(req, services)
    if refused is not None:
        return tenant_id, conversation_id, refused
    state = conversations.load(services.store, tenant_id, conversation_id) if re.match(
        CONVERSATION_ID_PATTERN, conversation_id) else None
    if state is None:
        return tenant_id, conversation_id, problem(404, "Unknown conversation", "No such conversation for this shop.",
                                                   errors=[{"field": "conversation_id", "message": "not found"}])
    audit.record(services.store, services.settings, tenant, actor_kind="operator", actor_id=principal.subject,
                 action="conversation.agent_reply", resource_kind="conversation", resource_id=conversation_id,
                 via=principal.via)
    return tenant_id, conversation_id, None


@bp.route(route="tenants/{tenant}/conversations/{conversation_id}/agent-reply", methods=["POST"],
          auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
async def agent_reply(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """A support agent answers an escalated conversation (the Zendesk webhook lands here too)."""
    tenant_id, conversation_id, error = _ids(req)
    if error:
        return error
    data, error = json_body(req, max_bytes=16_384)
    if error:
        return error
    try:
        reply = handoff.AgentReply.model_validate(data)
    except ValidationError as exc:
        return validation_problem(exc)
    instance = handoff.instance_id(tenant_id, conversation_id)
    status = await client.get_status(instance)
    if status and status.runtime_status in (df.OrchestrationRuntimeStatus.Running,
                                            df.OrchestrationRuntimeStatus.Pending):
        await client.raise_event(instance, "agent_reply", reply.model_dump(mode="json"))
        delivered = "via_handoff"
    else:
        handoff.relay_without_handoff(get_services().store, tenant_id, conversation_id, reply)
        delivered = "direct"
    return json_response({"accepted": True, "delivery": delivered}, 202)
