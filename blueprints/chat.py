"""Chat HTTP starter and health: validate → start the ``conversation_turn`` orchestration → wait a bounded time."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime

import azure.durable_functions as df
import azure.functions as func
from pydantic import ValidationError

from blueprints.problems import json_body, problem, validation_problem
from core import conversations
from core.agents import intent
from core.auth import AuthError, authorize_chat
from core.models import TENANT_ID_PATTERN, ChatRequest, TurnInput
from core.openapi import build_openapi
from core.services import get_services
from core.tenants import get_tenant, list_tenants

bp = df.Blueprint()
log = logging.getLogger("shopdesk.chat")
_IDEMPOTENCY_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_TRACEPARENT_RE = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")


def _trace_id(req: func.HttpRequest) -> str:
    match = _TRACEPARENT_RE.match(req.headers.get("traceparent", ""))
    return match.group(1) if match else uuid.uuid4().hex


@bp.route(route="tenants/{tenant}/chat", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
async def chat(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    services = get_services()
    settings = services.settings
    tenant_id = req.route_params.get("tenant", "")
    tenant = get_tenant(tenant_id, services.store) if re.match(TENANT_ID_PATTERN, tenant_id) else None
    if tenant is None:
        return problem(404, "Unknown tenant", f"No shop is registered under tenant id '{tenant_id[:64]}'.")
    try:
        caller = authorize_chat(settings, tenant, req.headers)
    except AuthError as exc:
        return problem(exc.status, exc.title, exc.detail, headers={"WWW-Authenticate": "Bearer"})

    data, error = json_body(req, max_bytes=settings.CHAT_MAX_MESSAGE_BYTES * 4 + 2048)
    if error:
        return error
    if not isinstance(data, dict):
        return problem(422, "Invalid request", "The request body must be a JSON object.",
                       errors=[{"field": "body", "message": "expected an object"}])
    try:
        request = ChatRequest.model_validate(data)
    except ValidationError as exc:
        return validation_problem(exc)
    size = len(request.message.encode("utf-8"))
    if size > settings.CHAT_MAX_MESSAGE_BYTES:
        return problem(413, "Message too long",
                       f"Field 'message' is {size} bytes; the limit is {settings.CHAT_MAX_MESSAGE_BYTES}.",
                       errors=[{"field": "message", "message": "too long"}])

    idempotency_key = req.headers.get("idempotency-key")
    if idempotency_key is not None and not _IDEMPOTENCY_RE.match(idempotency_key):
        return problem(400, "Invalid header", "Header 'Idempotency-Key' must be 8-64 letters, digits, '-' or '_'.",
                       errors=[{"field": "Idempotency-Key", "message": "invalid format"}])

    if request.conversation_id:
        state = conversations.load(services.store, tenant_id, request.conversation_id)
        if state is None:
            return problem(404, "Unknown conversation",
                           "Field 'conversation_id' does not match a conversation of this shop; omit it to start one.",
                           errors=[{"field": "conversation_id", "message": "not found"}])
        if state.customer and request.customer and (
            (state.customer.id and request.customer.id and state.customer.id != request.customer.id)
            or (state.customer.email and request.customer.email
                and state.customer.email.lower() != request.customer.email.lower())
        ):
            return problem(403, "Forbidden", "This conversation belongs to another customer.",
                           errors=[{"field": "conversation_id", "message": "belongs to another customer"}])
        if caller.conversation_id and caller.conversation_id != request.conversation_id:
            return problem(403, "Forbidden", "The session token is bound to another conversation.")
        conversation_id = request.conversation_id
    else:
        conversation_id = uuid.uuid4().hex

    turn_id = idempotency_key or uuid.uuid4().hex
    instance_id = f"{tenant_id}--{conversation_id}--{turn_id}"
    turn = TurnInput(tenant_id=tenant_id, conversation_id=conversation_id, turn_id=turn_id, message=request.message,
                     locale=request.locale, customer=request.customer, trace_id=_trace_id(req),
                     received_at=datetime.now(UTC).isoformat(timespec="milliseconds"))

    existing = await client.get_status(instance_id) if idempotency_key else None
    if existing is None or existing.runtime_status is None:
        if settings.CHAT_PREFETCH_EMBEDDING:
            intent.prefetch(turn.message)  # overlaps scheduling the turn and loading its context
        await client.start_new("conversation_turn", instance_id, turn.model_dump(mode="json"))
        log.info("turn started tenant=%s conversation=%s trace=%s", tenant_id, conversation_id, turn.trace_id)

    outcome, body = await _wait_for_reply(client, instance_id, settings.CHAT_WAIT_TIMEOUT_MS,
                                          min(settings.CHAT_POLL_INTERVAL_MS, settings.CHAT_WAIT_TIMEOUT_MS))
    if outcome == "reply":
        return func.HttpResponse(json.dumps(body, ensure_ascii=False), status_code=200, mimetype="application/json")
    if outcome == "stopped":
        return problem(503, "Turn not completed", "The conversation turn was stopped before it produced a reply.",
                       trace_id=turn.trace_id)
    if outcome == "failed":
        log.error("turn failed tenant=%s conversation=%s trace=%s", tenant_id, conversation_id, turn.trace_id)
        return problem(503, "Turn failed", "The assistant could not answer this message; please try again.",
                       trace_id=turn.trace_id, headers={"Retry-After": "2"})
    return client.create_check_status_response(req, instance_id)


async def _wait_for_reply(client: df.DurableOrchestrationClient, instance_id: str, timeout_ms: int,
                          interval_ms: int) -> tuple[str, dict | None]:
    """Poll the turn until its reply is known: ``("reply", result)``, ``("failed" | "stopped", None)``, or
    ``("pending", None)`` after ``timeout_ms``.

    The orchestrator publishes the result in its custom status as soon as the turn is recorded, before it queues
    the analytics event, so the customer does not wait for that send; the output serves when there is no such
    status (a result too large for it, or an instance that already finished)."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        status = await client.get_status(instance_id)
        runtime = status.runtime_status if status else None
        custom = status.custom_status if status else None
        if isinstance(custom, dict) and custom.get("stage") == "replied" and isinstance(custom.get("result"), dict):
            return "reply", custom["result"]
        if runtime == df.OrchestrationRuntimeStatus.Completed:
            output = status.output
            return ("reply", output) if isinstance(output, dict) and "reply" in output else ("stopped", None)
        if runtime == df.OrchestrationRuntimeStatus.Failed:
            return "failed", None
        if runtime in (df.OrchestrationRuntimeStatus.Terminated, df.OrchestrationRuntimeStatus.Canceled):
            return "stopped", None
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return "pending", None
        await asyncio.sleep(min(interval_ms / 1000, remaining))


@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    services = get_services()
    tenants = [t.id for t in list_tenants(services.store)]
    body = {"status": "ok", "env": services.settings.APP_ENV, "tenants": tenants}
    return func.HttpResponse(json.dumps(body), status_code=200, mimetype="application/json")


@bp.route(route="openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def openapi(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(build_openapi()), status_code=200, mimetype="application/json")
