"""OpenAPI 3.1 description of every HTTP route (served at ``GET /api/openapi.json``).

One table of operations; request and response bodies are the pydantic models that validate requests and shape
answers (core/models.py, core/handoff.py, core/events/operations.py, core/openapi_models.py), so the description
follows the code. Every error answer is ``application/problem+json`` (the shared ``Problem`` schema).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from core import openapi_models as api
from core.console import DAY_PATTERN
from core.events.operations import AnnouncementIn, PromotionIn, SyncSchedulesIn
from core.events.webhooks import SHOPIFY_TOPICS
from core.feedback import Feedback, FeedbackIn
from core.handoff import AgentReply
from core.models import CONVERSATION_ID_PATTERN, TENANT_ID_PATTERN, TurnResult
from core.tenants import ImportReport
from core.tenants.onboarding import BlobImport

PROBLEM_JSON = "application/problem+json"
REF = "#/components/schemas/{model}"

# Path parameters by name, as the app's route templates spell them.
PATH_PARAMETERS: dict[str, tuple[str | None, str]] = {
    "tenant": (TENANT_ID_PATTERN, "The shop's tenant id"),
    "conversation_id": (CONVERSATION_ID_PATTERN, "A conversation id from a chat reply"),
    "conversation": (api.OPAQUE_ID_PATTERN, "A conversation id"),
    "turn_id": (api.TURN_ID_PATTERN, "A turn id from a chat reply"),
    "promotion_id": (None, "A promotion id from the list"),
    "announcement_id": (None, "An announcement id from the list"),
    "name": (r"^[a-z0-9][a-z0-9.-]{0,80}\.(js|css|svg)$", "A script, style sheet or image of the pages"),
}

SECURITY_SCHEMES = {
    "functionKey": {"type": "apiKey", "in": "header", "name": "x-functions-key",
                    "description": "The function key (Azure Functions FUNCTION level; LOCAL_FUNCTION_KEY locally)."},
    "functionKeyQuery": {"type": "apiKey", "in": "query", "name": "code",
                         "description": "The function key as a query parameter."},
    "operatorToken": {"type": "http", "scheme": "bearer",
                      "description": "An operator-scoped session token: narrows the caller to its shop."},
    "appServicePrincipal": {"type": "apiKey", "in": "header", "name": "X-MS-CLIENT-PRINCIPAL",
                            "description": "Set by App Service authentication (Entra ID) in Azure: the operator's "
                                           "app roles Operator.All or Operator.<tenant>. Required when "
                                           "OPERATOR_AUTH=entra."},
    "tenantKey": {"type": "apiKey", "in": "header", "name": "X-Tenant-Key",
                  "description": "One of the shop's public widget keys."},
    "sessionToken": {"type": "http", "scheme": "bearer",
                     "description": "A chat session token the shop's back end got from POST "
                                    "/operator/tenants/{tenant}/sessions for its signed-in customer."},
}
# A shop may require a widget key or session token for its chat (require_chat_key, CHAT_REQUIRE_TENANT_KEY);
# a key or token that is sent is always checked.
CHAT_SECURITY: list[dict[str, list]] = [{}, {"tenantKey": []}, {"sessionToken": []}]
FUNCTION_SECURITY: list[dict[str, list]] = [{"functionKey": []}, {"functionKeyQuery": []}]
OPERATOR_SECURITY: list[dict[str, list]] = [
    *FUNCTION_SECURITY,
    *({key: [], narrowing: []} for narrowing in ("operatorToken", "appServicePrincipal")
      for key in ("functionKey", "functionKeyQuery")),
]


@dataclass(frozen=True)
class Answer:
    """A success answer: its body model (None: no body) and response headers."""

    description: str
    model: type[BaseModel] | None = None
    headers: dict[str, dict[str, Any]] = field(default_factory=dict)
    schema: dict[str, Any] | None = None  # a plain JSON schema when no model describes the body
    media_types: tuple[str, ...] = ("application/json",)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # the app's route template (without the /api prefix)
    operation_id: str
    tag: str
    summary: str
    answers: dict[int, Answer]
    problems: dict[int, str]  # status -> when it is answered
    security: list[dict[str, list]] = field(default_factory=list)
    body: type[BaseModel] | dict[str, Any] | None = None
    body_required: bool = True
    other_bodies: dict[str, dict[str, Any]] = field(default_factory=dict)  # media type -> schema, besides JSON
    headers: tuple[dict[str, Any], ...] = ()
    problem_headers: dict[int, dict[str, dict[str, Any]]] = field(default_factory=dict)
    description: str = ""


def _header(name: str, description: str, *, required: bool = False, **schema: Any) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": required, "description": description,
            "schema": {"type": "string", **schema}}


def _response_header(description: str, *, required: bool = False, **schema: Any) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": {"type": "string", **schema}}


BAD_BODY = {400: "The body is missing or not JSON", 413: "The body is too large",
            422: "A field is missing or invalid (named in errors[].field)"}
UNKNOWN_TENANT = {404: "Unknown tenant"}
NO_FUNCTION_KEY = {401: "No or wrong function key"}
OPERATOR_REFUSED = {
    401: "No or wrong function key; an invalid or expired operator token; no signed-in operator when "
         "OPERATOR_AUTH=entra",
    403: "The operator token or signed-in operator belongs to another shop",
    404: "Unknown tenant",
}
CONVERSATION_TOKEN = _header("X-Conversation-Token", "The conversation_token of an earlier reply in this "
                             "conversation: the proof that the caller holds the conversation.", required=True)
RETRY_AFTER = _response_header("Seconds to wait before asking again", pattern=r"^\d+$")
TURN_PROBLEMS = {
    401: "The shop needs X-Tenant-Key or a session token and none was sent; the session token is invalid or "
         "expired; X-Conversation-Token is missing",
    403: "X-Tenant-Key is not a key of this shop; the session token is for another shop or bound to another "
         "conversation; X-Conversation-Token does not match",
}


def _query(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": {"type": "string", **schema}}


HTML = ("text/html",)
HTML_PAGE = {"type": "string", "description": "An HTML page"}
PAGE_HEADERS = {"Content-Security-Policy": _response_header("Scripts, styles and calls only from the app",
                                                             required=True)}


def _shopify_headers() -> tuple[dict[str, Any], ...]:
    return (
        _header("X-Shopify-Hmac-Sha256", "base64 HMAC-SHA256 of the raw body with the shop's webhook secret",
                required=True),
        _header("X-Shopify-Topic", "The subscribed topic", required=True, enum=sorted(SHOPIFY_TOPICS)),
        _header("X-Shopify-Webhook-Id", "The delivery id: a delivery seen before answers 200 and does nothing",
                required=True),
        _header("X-Shopify-Triggered-At", "When Shopify sent it (ISO 8601); outside WEBHOOK_MAX_AGE_SECONDS it "
                "is refused", required=True, format="date-time"),
    )


def _zendesk_headers() -> tuple[dict[str, Any], ...]:
    return (
        _header("X-Zendesk-Webhook-Signature", "base64 HMAC-SHA256 of timestamp + raw body with the shop's webhook "
                "secret", required=True),
        _header("X-Zendesk-Webhook-Signature-Timestamp", "The signed timestamp (ISO 8601); outside "
                "WEBHOOK_MAX_AGE_SECONDS it is refused", required=True, format="date-time"),
        _header("X-Zendesk-Webhook-Invocation-Id", "The delivery id when the event body has no id"),
    )


NCRONTAB = {"pattern": r"^\S+( +\S+){5}$",
            "description": "NCRONTAB: six fields, seconds first (e.g. '0 0 */6 * * *')"}
# Rules the request models enforce in validators, stated in the description too (merged into the property's
# schema, or into its non-null branch).
REFINEMENTS: dict[str, dict[str, dict[str, Any]]] = {
    "AnnouncementIn": {"text": {"minProperties": 1, "propertyNames": {"enum": ["en", "fr", "es"]},
                                "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 500,
                                                         "pattern": r"\S"}}},
    "SyncSchedulesIn": {"products": NCRONTAB, "analytics": NCRONTAB},
    "PromotionIn": {"ends_at": {"description": "After starts_at"}},
}


def _refine(definitions: dict[str, Any]) -> None:
    for name, properties in REFINEMENTS.items():
        for prop, extra in properties.items():
            target = definitions[name]["properties"][prop]
            branches = [b for b in target.get("anyOf", []) if b.get("type") != "null"]
            (branches[0] if branches else target).update(extra)


VENDOR_PAYLOAD = {"type": "object", "description": "The vendor's webhook payload, as the vendor sends it"}
OPERATOR = "operator/tenants/{tenant}"


def operations() -> list[Operation]:
    """Every HTTP route of the app."""
    webhook_answers = {200: Answer("A delivery seen before: nothing is done", api.WebhookDuplicate),
                       202: Answer("Verified and published to the event bus", api.WebhookAccepted)}
    webhook_problems = {400: "The body is not a JSON object, or the delivery has no id",
                        401: "Bad or missing signature, or a timestamp outside the allowed window",
                        404: "Unknown tenant", 413: "The body is larger than 512 KiB",
                        422: "Unsupported topic or event, or a payload missing the fields its event needs"}
    return [
        Operation(
            "post", "tenants/{tenant}/chat", "chat", "chat", "One chat turn: the AI desk's reply",
            description="Validates the message, runs the turn (intent, knowledge, shop data, response, critic) "
                        "and answers as soon as the reply is known. A turn that takes longer than "
                        "CHAT_WAIT_TIMEOUT_MS answers 202: poll its status_url.",
            security=CHAT_SECURITY, body=api.ChatRequest,
            headers=(
                _header("Idempotency-Key", "Retrying with the same key returns the same turn instead of a new one",
                        pattern=api.TURN_ID_PATTERN),
                {**CONVERSATION_TOKEN, "required": False,
                 "description": "Required to continue a conversation (conversation_id in the body), unless the "
                                "session token is bound to that conversation"},
                _header("traceparent", "W3C trace context: the turn's trace id is taken from it"),
            ),
            answers={
                200: Answer("The reply", api.ChatReply),
                202: Answer("Still answering: poll status_url", api.ChatPending, headers={
                    "Location": _response_header("The turn's status URL (status_url)", required=True),
                    "Retry-After": {**RETRY_AFTER, "required": True}}),
            },
            problems={400: "Malformed JSON, a missing body or an invalid Idempotency-Key header", **TURN_PROBLEMS,
                      404: "Unknown tenant or conversation", 413: "The message or the body is too large",
                      422: "A field is missing or invalid (named in errors[].field)",
                      503: "The turn failed or was stopped; try again"},
            problem_headers={401: {"WWW-Authenticate": _response_header("Bearer")},
                             503: {"Retry-After": RETRY_AFTER}},
        ),
        Operation(
            "get", "tenants/{tenant}/conversations/{conversation_id}/turns/{turn_id}", "get_turn", "chat",
            "A turn's result, once a chat request answered 202",
            security=CHAT_SECURITY, headers=(CONVERSATION_TOKEN,),
            answers={200: Answer("The reply", TurnResult),
                     202: Answer("Still answering", api.ChatPending, headers={"Retry-After": RETRY_AFTER})},
            problems={**TURN_PROBLEMS, 404: "Unknown tenant, conversation or turn"},
        ),
        Operation(
            "get", "tenants/{tenant}/conversations/{conversation_id}", "get_conversation", "chat",
            "The customer's view of a conversation: turns, support agents' replies, hand-off state",
            headers=(CONVERSATION_TOKEN,),
            answers={200: Answer("The conversation", api.ConversationView)},
            problems={401: "X-Conversation-Token is missing", 403: "X-Conversation-Token does not match",
                      404: "Unknown tenant or conversation"},
        ),
        Operation(
            "post", "tenants/{tenant}/conversations/{conversation_id}/agent-reply", "agent_reply", "chat",
            "A support agent answers an escalated conversation",
            description="Relayed by the waiting hand-off, or written to the conversation directly when none waits.",
            security=FUNCTION_SECURITY, body=AgentReply,
            answers={202: Answer("Accepted", api.AgentReplyAccepted)},
            problems={**NO_FUNCTION_KEY, **BAD_BODY, 404: "Unknown tenant or conversation"},
        ),
        Operation("get", "health", "health", "meta", "Liveness and the loaded shops",
                  answers={200: Answer("Up", api.Health)}, problems={}),
        Operation("get", "openapi.json", "openapi", "meta", "This description",
                  answers={200: Answer("OpenAPI 3.1", schema={"type": "object"})}, problems={}),
        Operation("post", "webhooks/shopify/{tenant}", "shopify_webhook", "webhooks",
                  "Shopify webhooks (customers, orders, inventory) become catalog events",
                  description="Authenticated by the HMAC signature over the raw body.",
                  body=VENDOR_PAYLOAD, headers=_shopify_headers(), answers=webhook_answers,
                  problems=webhook_problems),
        Operation("post", "webhooks/zendesk/{tenant}", "zendesk_webhook", "webhooks",
                  "Zendesk event webhooks (tickets, satisfaction ratings) become catalog events",
                  description="Authenticated by the HMAC signature over timestamp + raw body.",
                  body=VENDOR_PAYLOAD, headers=_zendesk_headers(), answers=webhook_answers,
                  problems=webhook_problems),
        # Operator API
        Operation("get", OPERATOR + "/promotions", "list_promotions", "operator", "The shop's promotions",
                  security=OPERATOR_SECURITY, answers={200: Answer("Promotions", api.PromotionList)},
                  problems=OPERATOR_REFUSED),
        Operation("post", OPERATOR + "/promotions", "create_promotion", "operator",
                  "Schedule a time-limited promotion", security=OPERATOR_SECURITY, body=PromotionIn,
                  answers={201: Answer("Scheduled", api.Promotion)}, problems={**OPERATOR_REFUSED, **BAD_BODY}),
        Operation("delete", OPERATOR + "/promotions/{promotion_id}", "cancel_promotion", "operator",
                  "Cancel a scheduled or active promotion (and withdraw its announcement)",
                  security=OPERATOR_SECURITY,
                  answers={200: Answer("The promotion (unchanged when it had already ended)", api.Promotion)},
                  problems={**OPERATOR_REFUSED, 404: "Unknown tenant or promotion"}),
        Operation("get", OPERATOR + "/sync-schedules", "get_sync_schedules", "operator",
                  "Product and analytics sync schedules", security=OPERATOR_SECURITY,
                  answers={200: Answer("Schedules", api.SyncSchedules)}, problems=OPERATOR_REFUSED),
        Operation("put", OPERATOR + "/sync-schedules", "set_sync_schedules", "operator",
                  "Set sync schedules (NCRONTAB)", security=OPERATOR_SECURITY, body=SyncSchedulesIn,
                  answers={200: Answer("Schedules", api.SyncSchedules)}, problems={**OPERATOR_REFUSED, **BAD_BODY}),
        Operation("get", OPERATOR + "/announcements", "list_announcements", "operator",
                  "Announcements the assistant mentions once per conversation", security=OPERATOR_SECURITY,
                  answers={200: Answer("Announcements", api.AnnouncementList)}, problems=OPERATOR_REFUSED),
        Operation("post", OPERATOR + "/announcements", "publish_announcement", "operator",
                  "Publish an announcement (text per language)", security=OPERATOR_SECURITY, body=AnnouncementIn,
                  answers={201: Answer("Published", api.Announcement)}, problems={**OPERATOR_REFUSED, **BAD_BODY}),
        Operation("delete", OPERATOR + "/announcements/{announcement_id}", "withdraw_announcement", "operator",
                  "Withdraw an announcement", security=OPERATOR_SECURITY, answers={204: Answer("Withdrawn")},
                  problems={**OPERATOR_REFUSED, 404: "Unknown tenant or announcement"}),
        Operation("get", OPERATOR + "/dead-letters", "list_dead_letters", "operator",
                  "Events whose handler kept failing", security=OPERATOR_SECURITY,
                  answers={200: Answer("Dead letters", api.DeadLetterList)}, problems=OPERATOR_REFUSED),
        Operation("post", OPERATOR + "/dead-letters/replay", "replay_dead_letters", "operator",
                  "Re-deliver dead letters (the listed ids, or all)", security=OPERATOR_SECURITY,
                  body=api.DeadLetterReplay, answers={202: Answer("Queued", api.Replayed)},
                  problems={**OPERATOR_REFUSED, **BAD_BODY}),
        Operation("post", OPERATOR + "/events/replay", "replay_events", "operator",
                  "Re-deliver the logged events of a time range",
                  description="Agents that already handled an event skip it, so a replay completes what was lost "
                              "and never doubles.",
                  security=OPERATOR_SECURITY, body=api.RangeReplay, answers={202: Answer("Queued", api.Replayed)},
                  problems={**OPERATOR_REFUSED, **BAD_BODY}),
        Operation("get", OPERATOR + "/events/stats", "event_stats", "operator",
                  "Published, handled, retried, dead-lettered and dropped events per type and agent; alerts",
                  security=OPERATOR_SECURITY, answers={200: Answer("Statistics", api.EventStats)},
                  problems=OPERATOR_REFUSED),
        Operation("get", OPERATOR + "/conversations/{conversation}/trace", "conversation_trace", "operator",
                  "A conversation's trace: one span per agent step, integrations, cost (audited)",
                  security=OPERATOR_SECURITY, answers={200: Answer("The trace", api.ConversationTrace)},
                  problems={**OPERATOR_REFUSED, 404: "Unknown tenant or conversation"}),
        Operation("post", OPERATOR + "/sessions", "issue_session", "operator",
                  "A chat session token for the shop's signed-in customer",
                  description="The shop's back end asks for it and hands it to its chat widget.",
                  security=OPERATOR_SECURITY, body=api.SessionRequest, body_required=False,
                  answers={201: Answer("The token", api.SessionToken)},
                  problems={**OPERATOR_REFUSED, 400: "Malformed JSON", 413: "The body is too large",
                            422: "A field is invalid (named in errors[].field)"}),
        Operation("post", OPERATOR + "/import", "import_tenant", "operator",
                  "Onboard or update a shop from its tenant folder (a zip, or a folder of the knowledge container)",
                  description="The body is the tenant folder as application/zip (tenant.json at its top or in its "
                              "single top folder), or JSON naming the tenant's folder in the knowledge container. "
                              "The folder is validated, imported (configuration, knowledge, products, orders, "
                              "customers) and indexed; the report lists what was imported and warnings. The shop "
                              "need not exist yet.",
                  security=OPERATOR_SECURITY, body=BlobImport,
                  other_bodies={"application/zip": {"schema": {"type": "string", "format": "binary"}}},
                  headers=({"name": "dry_run", "in": "query", "required": False,
                            "description": "true: validate and report, write nothing",
                            "schema": {"type": "boolean", "default": False}},),
                  answers={200: Answer("Dry run: what an import would do", ImportReport),
                           201: Answer("Imported", ImportReport)},
                  problems={401: OPERATOR_REFUSED[401], 403: OPERATOR_REFUSED[403],
                            400: "The body is missing, not JSON or not a zip archive; a zip entry points outside "
                                 "the folder, is a link or cannot be read",
                            413: "The zip (20 MiB), its unpacked files (100 MiB) or their number (5000) is too large",
                            415: "The body is neither application/zip nor application/json",
                            422: "Invalid tenant id or dry_run; no tenant.json; a file of the folder is invalid "
                                 "(named in errors[].field)",
                            503: "The knowledge container could not be read"},
                  problem_headers={503: {"Retry-After": RETRY_AFTER}}),
        Operation("get", OPERATOR + "/audit", "audit_log", "operator", "The shop's data-access audit log",
                  security=OPERATOR_SECURITY, answers={200: Answer("Audit records", api.AuditLog)},
                  problems=OPERATOR_REFUSED),
        *_console_operations(),
    ]


def _console_operations() -> list[Operation]:
    """The customer's feedback, the operator API the console adds, and the pages."""
    bad_query = {422: "A query parameter is invalid (named in errors[].field)"}
    return [
        Operation(
            "post", "tenants/{tenant}/conversations/{conversation_id}/turns/{turn_id}/feedback", "turn_feedback",
            "chat", "Thumbs up or down, with an optional comment, on one reply",
            description="A second vote on the same reply replaces the first. Counted as the shop's satisfaction.",
            security=CHAT_SECURITY, body=FeedbackIn, headers=(CONVERSATION_TOKEN,),
            answers={201: Answer("Stored", Feedback)},
            problems={**TURN_PROBLEMS, **BAD_BODY, 404: "Unknown tenant, conversation or turn"},
            problem_headers={401: {"WWW-Authenticate": _response_header("Bearer")}}),
        Operation("get", OPERATOR + "/conversations", "list_conversations", "operator",
                  "The shop's conversations, most recently active first",
                  security=OPERATOR_SECURITY,
                  headers=(_query("status", "all, escalated (handed to a person) or open (handed over, not closed)",
                                  enum=["all", "escalated", "open"]),
                           _query("language", "Only conversations in this language", enum=["en", "fr", "es"]),
                           _query("since", "First day of activity (YYYY-MM-DD, UTC)", pattern=DAY_PATTERN),
                           _query("until", "Last day of activity (YYYY-MM-DD, UTC)", pattern=DAY_PATTERN),
                           {**_query("limit", "At most this many"),
                            "schema": {"type": "integer", "minimum": 1, "maximum": 500}}),
                  answers={200: Answer("Conversations", api.ConversationList)},
                  problems={**OPERATOR_REFUSED, **bad_query}),
        Operation("get", OPERATOR + "/conversations/{conversation}", "conversation_transcript", "operator",
                  "A conversation's transcript: customer, assistant and people, with feedback (audited)",
                  security=OPERATOR_SECURITY, answers={200: Answer("The transcript", api.Transcript)},
                  problems={**OPERATOR_REFUSED, 404: "Unknown tenant or conversation"}),
        Operation("get", OPERATOR + "/analytics", "analytics", "operator",
                  "Per day: conversations, resolution and escalation rates, satisfaction, cost against the budget; "
                  "intents and languages", security=OPERATOR_SECURITY,
                  headers=({**_query("days", "How many days, ending today (UTC)"),
                            "schema": {"type": "integer", "minimum": 1, "maximum": 90}},),
                  answers={200: Answer("The dashboard's figures", api.Analytics)},
                  problems={**OPERATOR_REFUSED, **bad_query}),
        Operation("get", "tenants/{tenant}/widget", "chat_widget", "pages", "The shop's customer chat page",
                  description="Framed by the embed script (/api/assets/embed.js) or opened on its own.",
                  answers={200: Answer("The page", schema=HTML_PAGE, media_types=HTML, headers=PAGE_HEADERS)},
                  problems=UNKNOWN_TENANT),
        Operation("get", "console", "operator_console", "pages", "The operator console (signs in in the page)",
                  answers={200: Answer("The page", schema=HTML_PAGE, media_types=HTML, headers=PAGE_HEADERS)},
                  problems={}),
        Operation("get", "docs", "api_docs", "pages", "This description in Swagger UI",
                  answers={200: Answer("The page", schema=HTML_PAGE, media_types=HTML, headers=PAGE_HEADERS)},
                  problems={}),
        Operation("get", "assets/{name}", "page_asset", "pages", "A script, style sheet or image of the pages",
                  answers={200: Answer("The file", schema={"type": "string"},
                                       media_types=("text/javascript", "text/css", "image/svg+xml"))},
                  problems={404: "No asset has that name"}),
    ]


def _models(ops: list[Operation]) -> list[tuple[type[BaseModel], str]]:
    wanted: dict[tuple[type[BaseModel], str], None] = {(api.Problem, "serialization"): None}
    for op in ops:
        if isinstance(op.body, type):
            wanted[(op.body, "validation")] = None
        for answer in op.answers.values():
            if answer.model is not None:
                wanted[(answer.model, "serialization")] = None
    return list(wanted)


def _parameters(op: Operation) -> list[dict[str, Any]]:
    params = []
    for name in re.findall(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", op.path):
        pattern, description = PATH_PARAMETERS[name]
        schema: dict[str, Any] = {"type": "string", "minLength": 1}
        if pattern:
            schema["pattern"] = pattern
        params.append({"name": name, "in": "path", "required": True, "description": description, "schema": schema})
    return params + list(op.headers)


def _operation(op: Operation, refs: dict[tuple[type[BaseModel], str], dict[str, Any]]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, answer in sorted(op.answers.items()):
        response: dict[str, Any] = {"description": answer.description}
        if answer.model is not None or answer.schema is not None:
            schema = refs[(answer.model, "serialization")] if answer.model is not None else answer.schema
            response["content"] = {media_type: {"schema": schema} for media_type in answer.media_types}
        if answer.headers:
            response["headers"] = answer.headers
        responses[str(status)] = response
    for status, description in sorted(op.problems.items()):
        response = {"description": description,
                    "content": {PROBLEM_JSON: {"schema": refs[(api.Problem, "serialization")]}}}
        if status in op.problem_headers:
            response["headers"] = op.problem_headers[status]
        responses[str(status)] = response
    out: dict[str, Any] = {"operationId": op.operation_id, "tags": [op.tag], "summary": op.summary}
    if op.description:
        out["description"] = op.description
    if params := _parameters(op):
        out["parameters"] = params
    if op.body is not None:
        schema = refs[(op.body, "validation")] if isinstance(op.body, type) else op.body
        content = {**op.other_bodies, "application/json": {"schema": schema}}
        out["requestBody"] = {"required": op.body_required, "content": content}
    out["security"] = op.security
    out["responses"] = responses
    return out


@lru_cache(maxsize=1)
def _cached() -> dict[str, Any]:
    ops = operations()
    models = _models(ops)
    refs_by_key, definitions = models_json_schema(models, ref_template=REF)
    refs = {key: refs_by_key[key] for key in models}
    _refine(definitions.get("$defs", {}))
    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        paths.setdefault("/" + op.path, {})[op.method] = _operation(op, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ShopDesk customer-service API",
            "version": "0.1.0",
            "description": "A shop's customers chat with the AI desk; vendors' webhooks feed its events; operators "
                           "manage promotions, announcements, schedules and events. Every error is "
                           "application/problem+json naming the field at fault in errors[].field; a method a path "
                           "does not serve answers 405 with an Allow header.",
        },
        "servers": [{"url": "/api"}],
        "tags": [{"name": "chat", "description": "The customer's conversation"},
                 {"name": "webhooks", "description": "Vendor webhooks (Shopify, Zendesk)"},
                 {"name": "operator", "description": "The shop's operators (function key)"},
                 {"name": "meta", "description": "Health and this description"},
                 {"name": "pages", "description": "The chat widget, the operator console, this viewer"}],
        "paths": paths,
        "components": {"schemas": definitions.get("$defs", {}), "securitySchemes": SECURITY_SCHEMES},
    }


def build_openapi() -> dict[str, Any]:
    """The description as a fresh dict (built once per process, copied per call)."""
    return copy.deepcopy(_cached())
