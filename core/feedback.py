"""Customers' feedback on the desk's replies: a thumbs up or down, and an optional comment, per turn.

One document per turn in the tenant's ``feedback`` collection (a second vote on the same reply replaces the first).
Comments are free text a customer wrote: card numbers are masked before they are stored, and they are never logged.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from core.pii.cards import mask_card_numbers
from core.stores.ports import DocumentStore

COLLECTION = "feedback"


class FeedbackIn(BaseModel):
    """What the chat widget sends for one reply."""

    model_config = ConfigDict(extra="forbid", title="FeedbackIn")
    rating: Literal["up", "down"] = Field(description="Thumbs up (helpful) or down (not helpful)")
    comment: Annotated[str, AfterValidator(mask_card_numbers)] | None = Field(
        default=None, max_length=1000, description="Optional: what was good or wrong (at most 1000 characters)")


class Feedback(FeedbackIn):
    """The stored feedback of one turn."""

    model_config = ConfigDict(extra="ignore", title="Feedback")
    conversation_id: str
    turn_id: str
    at: str = Field(description="When it was given (ISO 8601, UTC)")


def record(store: DocumentStore, tenant_id: str, conversation_id: str, turn_id: str, given: FeedbackIn,
           *, at: str | None = None, ttl_seconds: int | None = None) -> Feedback:
    """Store (or replace) the feedback on one turn of a conversation of ``tenant_id``, kept ``ttl_seconds`` (the
    shop's retention) when given."""
    feedback = Feedback(conversation_id=conversation_id, turn_id=turn_id, rating=given.rating,
                        comment=given.comment or None,
                        at=at or datetime.now(UTC).isoformat(timespec="milliseconds"))
    store.put(tenant_id, COLLECTION, f"{conversation_id}--{turn_id}", feedback.model_dump(mode="json"),
              ttl_seconds=ttl_seconds)
    return feedback


def for_conversation(store: DocumentStore, tenant_id: str, conversation_id: str) -> dict[str, Feedback]:
    """The feedback on a conversation's turns, by turn id."""
    docs = store.list(tenant_id, COLLECTION, prefix=f"{conversation_id}--", limit=1000)
    return {doc.body["turn_id"]: Feedback.model_validate(doc.body) for doc in docs}


def all_feedback(store: DocumentStore, tenant_id: str, limit: int = 100_000) -> list[Feedback]:
    return [Feedback.model_validate(doc.body) for doc in store.list(tenant_id, COLLECTION, limit=limit)]
