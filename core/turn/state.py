"""Everything a chat turn knows so far. The orchestrator passes it from step to step as plain JSON: each activity
receives the fields its steps read and returns the fields they wrote (``core.turn.steps`` declares both)."""

from __future__ import annotations

from pydantic import BaseModel

from core.models import (
    ActionOutcome,
    Citation,
    CustomerRef,
    Draft,
    Escalation,
    EscalationSignals,
    InputVerdict,
    IntentResult,
    Language,
    OutputVerdict,
    ShopFacts,
    TurnEvent,
    TurnInput,
    TurnResult,
)
from core.tenants import TenantConfig


class TurnContext(BaseModel):
    """The conversation so far, as the turn starts."""

    tenant: TenantConfig
    language: Language | None = None
    customer: CustomerRef | None = None
    claimed_customer: CustomerRef | None = None
    order_number: str | None = None
    order_from_list: bool = False
    product_ids: list[str] = []
    verified_email: str | None = None
    pending_action: dict | None = None  # an order action being prepared or awaiting the customer's yes
    action_owner: str | None = None  # the customer this conversation acts for (one per conversation)
    history: list[dict] = []
    unanswered_turns: int = 0
    turn_index: int = 0


class RecordedTurn(BaseModel):
    """The stored turn's API result, and the analytics event published once the reply is out."""

    result: TurnResult
    event: TurnEvent


class TurnState(BaseModel):
    turn: TurnInput
    context: TurnContext | None = None
    screen: InputVerdict | None = None
    intent: IntentResult | None = None
    citations: list[Citation] = []
    facts: ShopFacts = ShopFacts()
    action: ActionOutcome | None = None
    signals: EscalationSignals | None = None
    escalation: Escalation = Escalation()
    draft: Draft | None = None
    review: OutputVerdict | None = None
    retry_feedback: list[str] = []
    guardrail_reasons: list[str] = []
    recorded: RecordedTurn | None = None

    @property
    def language(self) -> Language:
        """The language the turn answers in: the intent agent's, else the input critic's."""
        if self.intent is not None:
            return self.intent.language
        return self.screen.language if self.screen else "en"
