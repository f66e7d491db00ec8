"""Pydantic models that cross boundaries: the chat API, orchestration inputs/outputs and agent results.

Only plain JSON crosses Durable boundaries: activities receive ``model_dump(mode="json")`` output and rebuild
models with ``model_validate``.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Language = Literal["en", "fr", "es"]
TENANT_ID_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
CONVERSATION_ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"

_LOCALE_RE = re.compile(r"^(en|fr|es)(?:[-_][A-Za-z]{2,4})?$", re.IGNORECASE)


def language_of_locale(locale: str | None) -> Language | None:
    if not locale:
        return None
    match = _LOCALE_RE.match(locale)
    return match.group(1).lower() if match else None  # type: ignore[return-value]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomerRef(Strict):
    """A customer as the shop knows them: its customer id, e-mail, name (see core.identity for how sure we are)."""

    id: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    name: str | None = Field(default=None, max_length=120)


class ChatRequest(Strict):
    message: str = Field(min_length=1)
    conversation_id: str | None = Field(default=None, pattern=CONVERSATION_ID_PATTERN)
    locale: str | None = Field(default=None, max_length=10)
    customer: CustomerRef | None = None  # unverified unless identity_token vouches for it
    identity_token: str | None = Field(default=None, min_length=1, max_length=4096,
                                       description="A HS256 JWT the shop's back end signed with the shop's identity "
                                                   "secret, naming its signed-in customer (external_id, email, name).")

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("message must not be blank")
        return value

    @field_validator("locale")
    @classmethod
    def _supported_locale(cls, value: str | None) -> str | None:
        if value is not None and language_of_locale(value) is None:
            raise ValueError("locale must be English, French or Spanish (e.g. 'en', 'fr-CA', 'es')")
        return value


class TurnInput(BaseModel):
    """Input of the ``conversation_turn`` orchestration."""

    tenant_id: str
    conversation_id: str
    turn_id: str
    message: str
    locale: str | None = None
    customer: CustomerRef | None = None  # verified: signed by the shop's back end
    claimed_customer: CustomerRef | None = None  # named in the chat body, nobody vouches for it
    trace_id: str
    # The W3C traceparent the turn's step spans are children of (the chat invocation's); "" = the trace id alone.
    trace_parent: str = ""
    received_at: str


class Entities(BaseModel):
    order_numbers: list[str] = []
    emails: list[str] = []
    products: list[str] = []  # product ids mentioned
    amounts: list[str] = []


class InputVerdict(BaseModel):
    blocked: bool = False
    reasons: list[str] = []
    language: Language = "en"
    language_confidence: float = 0.0
    usage: Usage | None = None


class Usage(BaseModel):
    provider: str = "offline"
    tokens: int = 0
    cost: float = 0.0

    def plus(self, other: Usage | None) -> Usage:
        if other is None:
            return self
        provider = other.provider if other.provider != "offline" else self.provider
        return Usage(provider=provider, tokens=self.tokens + other.tokens, cost=round(self.cost + other.cost, 8))


class IntentResult(BaseModel):
    label: str
    confidence: float
    language: Language
    sub_intent: str | None = None
    entities: Entities = Entities()
    wants_human: bool = False
    usage: Usage = Usage()


class Citation(BaseModel):
    doc_id: str
    title: str
    url: str | None = None
    score: float
    passage: str
    lang: str | None = None  # the cited document's language (en, fr-CA, es...), when the index knows it


class OrderFacts(BaseModel):
    order_number: str
    status: str  # unfulfilled | partially_shipped | shipped | delivered | cancelled | refunded
    financial_status: str | None = None
    created_at: str | None = None
    items: list[str] = []
    total: str | None = None
    currency: str | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    shipment_status: str | None = None
    pending_items: list[str] = []  # lines not shipped yet, when only part of the order has shipped
    refunded: str | None = None  # total refunded so far, when anything was
    refunded_on: str | None = None  # the date of the latest refund (YYYY-MM-DD), when anything was refunded
    cancelled_on: str | None = None  # the date the order was cancelled (YYYY-MM-DD)
    note: str | None = None  # the shop's note on the order (a backorder ETA, a planned ship date...)
    returns: list[str] = []  # ids of the returns and exchanges opened on the order
    shipping_method: str | None = None  # the order's shipping line ("Canada Post Expedited", "Local pickup — …")
    shipping_price: str | None = None  # what the customer paid for it


class ProductFacts(BaseModel):
    product_id: str
    doc_id: str  # the product's knowledge document, cited when the reply uses it
    title: str
    price: str | None = None
    currency: str | None = None
    in_stock: bool
    backorder: bool = False  # out of stock but orderable (ships when restocked)
    quantity: int | None = None
    variants: list[dict] = []
    url: str | None = None


class ShopFacts(BaseModel):
    orders: list[OrderFacts] = []
    products: list[ProductFacts] = []
    order_lookup: Literal["none", "found", "not_found", "needs_verification"] = "none"
    #: The orders are the signed-in customer's own whose record speaks of their money (a refund, a cancellation, a
    #: payment awaited), looked up for a money question that names none of them: context, not what is asked back.
    money_context: bool = False
    customer_known: bool = False


class EscalationSignals(BaseModel):
    """The escalation agent's reading of the customer's message (its model's probability per reason, whether it
    asks for a group or business quantity, and the model's reading of its sentences one by one), made once per turn
    so that the orchestrator's rule only reads it."""

    scores: dict[str, float] = {}
    bulk_order: bool = False
    #: The highest probability of a broken, spoiled or defective item the model gives one sentence of a message in
    #: several (a long, angry message buries the damage among its other sentences).
    damaged_part: float = 0.0
    #: That sentence (what the shop's pages are searched with for what to do about the damage).
    damaged_sentence: str = ""


class Escalation(BaseModel):
    escalated: bool = False
    ticket_id: str | None = None
    reason: str | None = None


class ActionOutcome(BaseModel):
    """What the order-action dialogue (``core.actions``) did with a turn."""

    handled: bool = False  # the reply is the dialogue's (a question, a proposal, an outcome or a refusal)
    reply: str | None = None
    language: Language | None = None  # the reply's language, when not the turn's ("no" is English and Spanish)
    pending: dict | None = None  # the action in progress after this turn (slots or a proposal), None: none
    owner: str | None = None  # the customer this conversation acts for, once one proved who they are
    order_number: str | None = None  # the order the customer proved to own, if any
    approval: dict | None = None  # a change only a person at the shop may make: the turn opens a ticket for it
    grounding: list[str] = []  # the values the reply states (amounts, ids, the address given), for the critic
    refusal: str | None = None  # why the change was refused on an order the customer proved theirs (its code)
    # the message asks whether a change can be made (not to make it) and nothing rules it out: the shop's policy
    # answers it, with the order beside it
    asks_policy: bool = False


class Guardrail(BaseModel):
    blocked: bool = False
    reasons: list[str] = []


class Draft(BaseModel):
    reply: str
    language: Language
    citations: list[Citation] = []
    usage: Usage = Usage()
    grounded: bool = True
    pii_report: list[str] = []  # problems found restoring PII tokens (e.g. a token of another conversation)


class OutputVerdict(BaseModel):
    ok: bool
    reasons: list[str] = []


class TurnResult(BaseModel):
    """What the chat endpoint returns."""

    tenant_id: str
    conversation_id: str
    turn_id: str
    reply: str
    language: Language
    intent: str
    confidence: float
    citations: list[Citation] = []
    escalation: Escalation = Escalation()
    guardrail: Guardrail = Guardrail()
    usage: Usage = Usage()
    trace_id: str


class TurnEvent(BaseModel):
    """The analytics event of one turn. No message text and no customer data: only what the dashboards need."""

    event_id: str
    tenant_id: str
    conversation_id: str
    at: str
    intent: str
    language: str
    confidence: float
    escalated: bool
    blocked: bool
    grounded: bool
    citations: int
    latency_ms: float | None = None


class HandoffJob(BaseModel):
    """Input of the ``human_handoff`` orchestration: an escalated conversation waiting for a person."""

    tenant_id: str
    conversation_id: str
    ticket_id: str
    language: str = "en"
    timeout_minutes: int = 30
    replies: int = 0
