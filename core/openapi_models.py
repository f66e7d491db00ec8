"""Request and response shapes of the HTTP API that have no domain model of their own: the OpenAPI description
(core/openapi.py) builds its schemas from these and from the domain models they reuse."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core import models
from core.events.catalog import AGENTS
from core.events.operations import Announcement, Promotion
from core.models import CONVERSATION_ID_PATTERN, Language, TurnResult

LOCALE_PATTERN = r"^([Ee][Nn]|[Ff][Rr]|[Ee][Ss])([-_][A-Za-z]{2,4})?$"
OPAQUE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"
TURN_ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"


# Chat ---------------------------------------------------------------------------------------------------------
class ChatRequest(models.ChatRequest):
    """One customer message. Omit ``conversation_id`` to start a conversation."""

    model_config = ConfigDict(title="ChatRequest")
    message: str = Field(min_length=1, pattern=r"\S",
                         description="The customer's message (not blank; at most CHAT_MAX_MESSAGE_BYTES UTF-8 bytes, "
                                     "4096 by default: longer is a 413).")
    conversation_id: str | None = Field(default=None, pattern=CONVERSATION_ID_PATTERN,
                                        description="The conversation to continue (from an earlier reply).")
    locale: str | None = Field(default=None, max_length=10, pattern=LOCALE_PATTERN,
                               description="The customer's language: en, fr or es, with an optional region (fr-CA).")


class ChatReply(TurnResult):
    """The assistant's answer to one turn."""

    conversation_token: str = Field(description="Send it back as X-Conversation-Token to continue the conversation "
                                                "or read it.")


class ChatPending(BaseModel):
    """The turn is still being answered: poll ``status_url`` (also in the Location header)."""

    status: Literal["pending"]
    conversation_id: str
    turn_id: str
    conversation_token: str
    status_url: str


class Health(BaseModel):
    status: Literal["ok"]
    env: str
    tenants: list[str] = Field(description="The shops this deployment serves.")


# Conversations and hand-off -----------------------------------------------------------------------------------
class ConversationTurn(BaseModel):
    at: str
    user: str
    reply: str
    intent: str


class AgentMessageView(BaseModel):
    at: str
    author: str = Field(description="'agent:<name>' or 'system'")
    text: str
    ticket_id: str | None = None


class ConversationView(BaseModel):
    """The customer's view of a conversation: its turns, support agents' replies and the hand-off state."""

    conversation_id: str
    language: Language | None = None
    ticket_id: str | None = None
    handoff: Literal["waiting", "answered", "timed_out", "closed"] | None = None
    turns: list[ConversationTurn]
    agent_messages: list[AgentMessageView]


class AgentReplyAccepted(BaseModel):
    accepted: Literal[True]
    delivery: Literal["via_handoff", "direct"] = Field(
        description="via_handoff: the waiting hand-off relays it; direct: written to the conversation at once.")


# Webhooks -----------------------------------------------------------------------------------------------------
class EventRef(BaseModel):
    id: str
    type: str
    subject: str


class WebhookAccepted(BaseModel):
    accepted: Literal[True]
    events: list[EventRef] = Field(description="The catalog CloudEvents published for this delivery.")


class WebhookDuplicate(BaseModel):
    accepted: Literal[True]
    duplicate: Literal[True]


# Operator API -------------------------------------------------------------------------------------------------
class PromotionList(BaseModel):
    promotions: list[Promotion]


class AnnouncementList(BaseModel):
    announcements: list[Announcement]


class SyncSchedule(BaseModel):
    schedule: str = Field(description="NCRONTAB (six fields, seconds first)")
    custom: bool = Field(description="False when the deployment's default schedule applies")
    last_run: str | None = None


class SyncSchedules(BaseModel):
    products: SyncSchedule
    analytics: SyncSchedule


class DeadLetter(BaseModel):
    id: str
    agent: str
    type: str
    subject: str
    time: str
    error: str = Field(description="The failed handler's exception type (never its message)")
    attempts: int
    at: str


class DeadLetterList(BaseModel):
    dead_letters: list[DeadLetter]


class DeadLetterReplay(BaseModel):
    """Re-deliver the listed dead letters, or all of them when ``ids`` is absent or null."""

    model_config = ConfigDict(extra="forbid")
    ids: list[str] | None = None


class RangeReplay(BaseModel):
    """Re-deliver the logged events of a time range (both ends inclusive) to their subscribers."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    start: str = Field(alias="from", description="ISO 8601 time, inclusive", json_schema_extra={"format": "date-time"})
    end: str = Field(alias="to", description="ISO 8601 time, inclusive", json_schema_extra={"format": "date-time"})
    agents: list[Literal[AGENTS]] | None = Field(default=None,  # type: ignore[valid-type]
                                                 description="Only these agents' queues (default: every subscriber)")


class Replayed(BaseModel):
    replayed: int = Field(description="How many deliveries were queued")


class EventStats(BaseModel):
    tenant_id: str
    days: list[dict[str, Any]] = Field(description="Per-day counters, oldest first (7 days)")
    totals: dict[str, int]
    dead_letters: int
    alerts: list[dict[str, Any]]


class TraceTurn(BaseModel):
    turn_id: str
    trace_id: str
    steps: list[dict[str, Any]] = Field(description="One span per agent step, with its integration spans")
    cost_usd: float
    tokens: int


class ConversationTrace(BaseModel):
    tenant_id: str
    conversation_id: str
    turns: list[TraceTurn]
    cost_usd: float


class SessionRequest(BaseModel):
    """All fields are optional; an empty body is an empty object."""

    ttl_seconds: int = Field(default=3600, ge=60, le=86400,
                             description="Lifetime (SESSION_TOKEN_TTL_SECONDS by default)")
    conversation_id: str | None = Field(default=None, pattern=OPAQUE_ID_PATTERN,
                                        description="Bind the token to this conversation")
    customer_ref: str | None = Field(default=None, pattern=OPAQUE_ID_PATTERN,
                                     description="The shop's reference of its signed-in customer (not PII)")


class SessionToken(BaseModel):
    token: str
    token_type: Literal["Bearer"]
    expires_in: int


class AuditActor(BaseModel):
    kind: str
    ref: str = Field(description="Keyed hash of the actor's id, never the id itself")
    via: str


class AuditResource(BaseModel):
    kind: str
    ref: str


class AuditRecord(BaseModel):
    at: str
    tenantId: str  # the stored record's field name
    actor: AuditActor
    action: str
    resource: AuditResource
    outcome: str


class AuditLog(BaseModel):
    tenant_id: str
    records: list[AuditRecord]


class FieldError(BaseModel):
    field: str = Field(description="The field, header or parameter at fault (dotted path for nested fields)")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details: every error answer."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


# Console API and feedback ---------------------------------------------------------------------------------------
class ConversationSummary(BaseModel):
    conversation_id: str
    created_at: str | None
    updated_at: str | None
    language: Language | None
    turns: int = Field(ge=0)
    escalated: bool = Field(description="Handed to a person (a ticket was opened)")
    open: bool = Field(description="Handed to a person, not yet closed or timed out")
    ticket_id: str | None
    handoff: str | None = Field(description="None, waiting, answered, timed_out or closed")
    last_message: str | None = Field(description="The customer's last message (its first 200 characters)")
    agent_messages: int = Field(ge=0)


class ConversationList(BaseModel):
    conversations: list[ConversationSummary]


class FeedbackView(BaseModel):
    rating: Literal["up", "down"]
    comment: str | None
    at: str


class TranscriptMessage(BaseModel):
    at: str
    author: str = Field(description="customer, assistant, agent:<name> or system")
    text: str
    turn_id: str | None = None
    intent: str | None = None
    language: Language | None = None
    escalated: bool | None = None
    feedback: FeedbackView | None = None


class Transcript(ConversationSummary):
    customer: dict[str, Any] | None
    messages: list[TranscriptMessage]


class Satisfaction(BaseModel):
    up: int = Field(ge=0)
    down: int = Field(ge=0)
    rate: float | None = Field(description="Share of thumbs up; null without feedback")


class AnalyticsDay(BaseModel):
    day: str
    conversations: int = Field(ge=0)
    turns: int = Field(ge=0)
    resolved: int = Field(ge=0, description="Turns answered without a person")
    escalated: int = Field(ge=0)
    resolution_rate: float | None
    escalation_rate: float | None
    satisfaction: Satisfaction
    cost: float = Field(ge=0, description="Language-model cost of the day (USD)")


class AnalyticsTotals(BaseModel):
    conversations: int = Field(ge=0)
    turns: int = Field(ge=0)
    resolution_rate: float | None
    escalation_rate: float | None
    satisfaction: Satisfaction
    cost: float = Field(ge=0)


class Analytics(BaseModel):
    days: list[AnalyticsDay]
    daily_budget: float | None = Field(description="The shop's daily language-model budget (USD), if set")
    intents: dict[str, int]
    languages: dict[str, int]
    totals: AnalyticsTotals
