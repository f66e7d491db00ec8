"""Customer chat routes: a turn (validate -> start the ``conversation_turn`` orchestration -> wait a bounded time),
the status of a turn that took longer, and the customer's read of a conversation; plus health and the OpenAPI
description.

Who may do what is decided in core.auth (chat credential, conversation token) and core.identity (anonymous,
unverified, verified customer); this module maps HTTP to those rules."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import quote

import azure.durable_functions as df
import azure.functions as func
from pydantic import ValidationError

from blueprints.problems import json_body, json_response, problem, route_tenant, validation_problem
from core import audit, conversations, identity, instance_watch, telemetry
from core.agents import intent
from core.auth import (
    AuthError,
    Principal,
    authorize_chat,
    authorize_conversation,
    idempotent_conversation_id,
    issue_conversation_token,
)
from core.models import CONVERSATION_ID_PATTERN, ChatRequest, TurnInput
from core.openapi import build_openapi
from core.pii.cards import mask_card_numbers
from core.services import get_services
from core.tenants import TenantConfig, list_tenants

bp = df.Blueprint()
log = logging.getLogger("shopdesk.chat")
_IDEMPOTENCY_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
PENDING_RETRY_AFTER = "1"


def invocation_trace_parent(context: func.Context | None) -> str:
    """The ``traceparent`` of the Functions invocation ("" without one, as on the local host)."""
    trace_context = getattr(context, "trace_context", None)
    return str(getattr(trace_context, "trace_parent", "") or "")


def trace_parent(req: func.HttpRequest, context: func.Context | None) -> str:
    """The turn's W3C trace parent: the invocation's trace context in Azure; the request's ``traceparent`` only
    where there is no invocation context (the local host); "" when neither is a valid one."""
    parent = invocation_trace_parent(context) or req.headers.get("traceparent", "")
    return parent if telemetry.trace_id_of(parent) else ""


def _auth_problem(exc: AuthError, field: str | None = None) -> func.HttpResponse:
    return problem(exc.status, exc.title, exc.detail, headers={"WWW-Authenticate": "Bearer"},
                   errors=[{"field": field, "message": exc.title.lower()}] if field else None)


def _customer(req: func.HttpRequest) -> tuple[TenantConfig, Principal] | func.HttpResponse:
    """The route's tenant and the chat caller, or the problem that refuses them."""
    tenant, refused = route_tenant(req, get_services().store)
    if tenant is None:
        return refused  # type: ignore[return-value]
    try:
        return tenant, authorize_chat(get_services().settings, tenant, req.headers)
    except AuthError as exc:
        return _auth_problem(exc)


def _prove_conversation(req: func.HttpRequest, caller: Principal, conversation_id: str) -> func.HttpResponse | None:
    """None once the caller proved the conversation is theirs (its conversation token, or a session token bound to
    it); otherwise the problem. The conversation's first turn may still be running: nothing is read here."""
    if not re.match(CONVERSATION_ID_PATTERN, conversation_id):
        return problem(404, "Unknown conversation", "No conversation of this shop has that id.",
                       errors=[{"field": "conversation_id", "message": "not found"}])
    try:
        authorize_conversation(get_services().settings, caller, req.headers, conversation_id)
    except AuthError as exc:
        return _auth_problem(exc, "X-Conversation-Token")
    return None


def _owned_conversation(req: func.HttpRequest, tenant: TenantConfig, caller: Principal, conversation_id: str
                        ) -> conversations.ConversationState | func.HttpResponse:
    refused = _prove_conversation(req, caller, conversation_id)
    if refused is not None:
        return refused
    state = conversations.load(get_services().store, tenant.id, conversation_id)
    if state is None:
        return problem(404, "Unknown conversation", "No conversation of this shop has that id.",
                       errors=[{"field": "conversation_id", "message": "not found"}])
    return state


def _turn_links(tenant_id: str, conversation_id: str, turn_id: str) -> str:
    return (f"/api/tenants/{quote(tenant_id)}/conversations/{quote(conversation_id)}/turns/{quote(turn_id)}")


@bp.route(route="tenants/{tenant}/chat", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
async def chat(req: func.HttpRequest, client: df.DurableOrchestrationClient,
               context: func.Context = None) -> func.HttpResponse:  # type: ignore[assignment]  # None: local host
    found = _customer(req)
    if isinstance(found, func.HttpResponse):
        return found
    tenant, caller = found
    settings = get_services().settings

    data, error = json_body(req, max_bytes=settings.CHAT_MAX_MESSAGE_BYTES * 4 + 8192)
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

    try:
        who = identity.resolve(settings, tenant.id, identity_token=request.identity_token,
                               claimed=request.customer,
                               session_subject=caller.subject if caller.via == "session_token" else None)
    except identity.IdentityError as exc:
        return problem(exc.status, "Identity refused", exc.detail,
                       errors=[{"field": exc.field, "message": "refused"}])

    if request.conversation_id:
        state = _owned_conversation(req, tenant, caller, request.conversation_id)
        if isinstance(state, func.HttpResponse):
            return state
        if state.customer is not None and not identity.same_customer(state.customer, who.verified):
            return problem(403, "Forbidden", "This conversation belongs to a signed-in customer; continue it with "
                           "the same verified identity.",
                           errors=[{"field": "identity_token", "message": "not this conversation's customer"}])
        conversation_id = request.conversation_id
    elif idempotency_key:
        conversation_id = idempotent_conversation_id(settings, tenant.id, caller, idempotency_key)
    else:
        conversation_id = uuid.uuid4().hex

    message = mask_card_numbers(request.message)  # PCI DSS: only the last 4 digits are kept, anywhere
    turn_id = idempotency_key or uuid.uuid4().hex
    instance_id = f"{tenant.id}--{conversation_id}--{turn_id}"
    parent = trace_parent(req, context)
    turn = TurnInput(tenant_id=tenant.id, conversation_id=conversation_id, turn_id=turn_id, message=message,
                     locale=request.locale, customer=who.verified, claimed_customer=who.claimed,
                     trace_id=telemetry.trace_id_of(parent) or uuid.uuid4().hex,
                     trace_parent=parent, received_at=datetime.now(UTC).isoformat(timespec="milliseconds"))

    existing = await client.get_status(instance_id, show_input=True) if idempotency_key else None
    if existing is None or existing.runtime_status is None:
        if settings.CHAT_PREFETCH_EMBEDDING:
            intent.prefetch(turn.message)  # overlaps scheduling the turn and loading its context
        await client.start_new("conversation_turn", instance_id, turn.model_dump(mode="json"))
        log.info("turn started tenant=%s conversation=%s trace=%s", tenant.id, conversation_id, turn.trace_id)
    elif not _same_request(existing.input_, turn):
        return problem(422, "Idempotency-Key reused", "This Idempotency-Key was already used for another message; "
                       "use a new key for a new message.",
                       errors=[{"field": "Idempotency-Key", "message": "used for another request"}])

    token = issue_conversation_token(settings, tenant.id, conversation_id)
    outcome, body = await _wait_for_reply(client, instance_id, settings.CHAT_WAIT_TIMEOUT_MS,
                                          min(settings.CHAT_POLL_INTERVAL_MS, settings.CHAT_WAIT_TIMEOUT_MS))
    return _turn_response(outcome, body, tenant.id, conversation_id, turn_id, turn.trace_id, token)


def _same_request(stored: object, turn: TurnInput) -> bool:
    """Whether a retried request carries what the first one did (message, customer, locale)."""
    if isinstance(stored, str):
        try:
            stored = json.loads(stored)
        except ValueError:
            return False
    if not isinstance(stored, dict):
        return False
    mine = turn.model_dump(mode="json")
    return all(stored.get(k) == mine.get(k) for k in ("message", "locale", "customer", "claimed_customer"))


def _turn_response(outcome: str, body: dict | None, tenant_id: str, conversation_id: str, turn_id: str,
                   trace_id: str | None, token: str | None) -> func.HttpResponse:
    if outcome == "reply":
        assert body is not None
        return json_response({**body, **({"conversation_token": token} if token else {})})
    if outcome == "stopped":
        return problem(503, "Turn not completed", "The conversation turn was stopped before it produced a reply.",
                       trace_id=trace_id)
    if outcome == "failed":
        log.error("turn failed tenant=%s conversation=%s trace=%s", tenant_id, conversation_id, trace_id)
        return problem(503, "Turn failed", "The assistant could not answer this message; please try again.",
                       trace_id=trace_id, headers={"Retry-After": "2"})
    status_url = _turn_links(tenant_id, conversation_id, turn_id)
    pending = {"status": "pending", "conversation_id": conversation_id, "turn_id": turn_id, "status_url": status_url}
    if token:
        pending["conversation_token"] = token
    return json_response(pending, 202, headers={"Location": status_url, "Retry-After": PENDING_RETRY_AFTER})


async def _wait_for_reply(client: df.DurableOrchestrationClient, instance_id: str, timeout_ms: int,
                          interval_ms: int) -> tuple[str, dict | None]:
    """Read the turn's status until its reply is known: ``("reply", result)``, ``("failed" | "stopped", None)``, or
    ``("pending", None)`` after ``timeout_ms`` (``("unknown", None)`` when there is no such turn).

    The reply is the turn's output; a custom status ``{"stage": "replied", "result": ...}`` is read as the reply too
    (an orchestration may publish its result before it finishes). Between reads it waits for the instance's custom
    status or outcome to change where the Durable backend says so (``core.instance_watch``; not for it merely to
    start running), else one polling interval."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        status = await client.get_status(instance_id)
        runtime = status.runtime_status if status else None
        custom = status.custom_status if status else None
        if isinstance(custom, dict) and custom.get("stage") == "replied" and isinstance(custom.get("result"), dict):
            return "reply", custom["result"]
        if runtime is None:
            return "unknown", None
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
        await instance_watch.wait(instance_id, interval_ms / 1000, remaining, outcome_only=True)


@bp.route(route="tenants/{tenant}/conversations/{conversation_id}/turns/{turn_id}", methods=["GET"],
          auth_level=func.AuthLevel.ANONYMOUS)
@bp.durable_client_input(client_name="client")
async def turn_status(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    """A turn that outlasted the chat wait: 202 while it runs, then its reply (the same body the chat answers)."""
    found = _customer(req)
    if isinstance(found, func.HttpResponse):
        return found
    tenant, caller = found
    conversation_id, turn_id = req.route_params.get("conversation_id", ""), req.route_params.get("turn_id", "")
    refused = _prove_conversation(req, caller, conversation_id)
    if refused is not None:
        return refused
    if not _IDEMPOTENCY_RE.match(turn_id):
        return problem(404, "Unknown turn", "No turn of this conversation has that id.",
                       errors=[{"field": "turn_id", "message": "not found"}])
    outcome, body = await _wait_for_reply(client, f"{tenant.id}--{conversation_id}--{turn_id}", 0, 0)
    if outcome == "unknown":
        return problem(404, "Unknown turn", "No turn of this conversation has that id.",
                       errors=[{"field": "turn_id", "message": "not found"}])
    return _turn_response(outcome, body, tenant.id, conversation_id, turn_id, None, None)


@bp.route(route="tenants/{tenant}/conversations/{conversation_id}", methods=["GET"],
          auth_level=func.AuthLevel.ANONYMOUS)
def get_conversation(req: func.HttpRequest) -> func.HttpResponse:
    """The customer's view of their conversation: turns, agent replies and hand-off state. Needs the chat credential
    and the conversation token; audited where the shop is audited (HIPAA)."""
    found = _customer(req)
    if isinstance(found, func.HttpResponse):
        return found
    tenant, caller = found
    conversation_id = req.route_params.get("conversation_id", "")
    state = _owned_conversation(req, tenant, caller, conversation_id)
    if isinstance(state, func.HttpResponse):
        return state
    services = get_services()
    audit.record(services.store, services.settings, tenant, actor_kind="customer",
                 actor_id=caller.subject or caller.via, action="conversation.transcript_read",
                 resource_kind="conversation", resource_id=conversation_id, via=caller.via)
    body = {
        "conversation_id": conversation_id, "language": state.language, "ticket_id": state.ticket_id,
        "handoff": state.handoff,
        "turns": [{"at": t.at, "user": t.user, "reply": t.reply, "intent": t.intent} for t in state.turns],
        "agent_messages": [m.model_dump(mode="json", exclude={"id"}) for m in state.agent_messages],
    }
    return json_response(body)


@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    services = get_services()
    tenants = [t.id for t in list_tenants(services.store)]
    body = {"status": "ok", "env": services.settings.APP_ENV, "tenants": tenants}
    return json_response(body)


@bp.route(route="openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def openapi(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(build_openapi())
