"""The escalation model: what it is trained on, how its judgement and the fixed rules combine in ``decide``, and what
the trained model decides on messages written for these tests (not in its training data)."""

from __future__ import annotations

import numpy as np
import pytest

from core.agents import escalation, escalation_model
from core.models import Entities, InputVerdict, IntentResult


class FixedModel:
    """Stands in for the trained pipeline: always the same probabilities."""

    def __init__(self, **probabilities: float):
        self.classes_ = np.array(list(probabilities))
        self._row = np.array(list(probabilities.values()))

    def predict_proba(self, texts):
        return np.array([self._row for _ in texts])


def _intent(label="general", confidence=0.9, **kw) -> IntentResult:
    return IntentResult(label=label, confidence=confidence, language="en", **kw)


def test_the_intent_utterances_count_where_their_label_says_the_same(monkeypatch):
    rows = [
        {"text": "manager now", "label": "complaint_escalation", "sub_intent": "complaint_escalation.manager"},
        {"text": "my lawyer", "label": "complaint_escalation", "sub_intent": "complaint_escalation.legal_threat"},
        {"text": "rash from the cream", "label": "returns_refunds", "sub_intent": "returns_refunds.adverse_reaction"},
        {"text": "when is support open?", "label": "complaint_escalation"},
        {"text": "it says delivered, nothing here", "label": "order_status", "sub_intent": "order_status.not_received"},
        {"text": "do you ship to Peru?", "label": "shipping", "sub_intent": "shipping.countries"},
    ]
    monkeypatch.setattr(escalation_model, "load_examples", lambda split: rows)
    assert escalation_model.intent_rows() == [("manager now", "human_request"), ("my lawyer", "legal_threat"),
                                              ("rash from the cream", "safety"), ("do you ship to Peru?", "none")]


def test_the_learned_reason_becomes_the_tickets_reason():
    cases = {"safety": "safety", "human_request": "customer_requested_human", "legal_threat": "complaint",
             "abuse": "frustrated_customer", "technical_fault": "technical_fault", "bulk_business": "bulk_order",
             "refund_decision": "refund_decision"}
    for learned, reason in cases.items():
        model = FixedModel(none=0.1, **{learned: 0.9})
        assert escalation.decide(_intent(), InputVerdict(), unanswered_turns=0, message="m", model=model) == reason


def test_a_message_the_model_calls_ordinary_is_not_escalated():
    model = FixedModel(none=0.9, complaint=0.1)
    assert escalation.decide(_intent(), InputVerdict(), unanswered_turns=0, message="m", model=model) is None


def test_the_intent_complaint_label_counts_unless_the_model_is_sure_it_is_ordinary():
    complaint = _intent("complaint_escalation", 0.8)
    unsure = FixedModel(none=0.6, complaint=0.4)
    sure = FixedModel(none=0.95, complaint=0.05)
    assert escalation.decide(complaint, InputVerdict(), unanswered_turns=0, message="m", model=unsure) == "complaint"
    assert escalation.decide(complaint, InputVerdict(), unanswered_turns=0, message="m", model=sure) is None


def test_a_refund_of_a_named_amount_is_the_limits_to_decide():
    model = FixedModel(none=0.2, refund_decision=0.8)
    named = _intent("returns_refunds", entities=Entities(amounts=["$40"]))
    assert escalation.decide(named, InputVerdict(), unanswered_turns=0, message="m", refund_limit=50.0,
                             model=model) is None
    assert escalation.decide(_intent("returns_refunds"), InputVerdict(), unanswered_turns=0, message="m",
                             refund_limit=50.0, model=model) == "refund_decision"


def test_the_fixed_rules_still_decide_without_the_model():
    ordinary = FixedModel(none=0.99, complaint=0.01)
    refund = _intent("returns_refunds", entities=Entities(amounts=["$120"]))
    assert escalation.decide(refund, InputVerdict(), unanswered_turns=0, message="m", refund_limit=100.0,
                             model=ordinary) == "refund_above_limit"
    assert escalation.decide(_intent(), InputVerdict(), unanswered_turns=2, message="m",
                             model=ordinary) == "repeated_failure"
    assert escalation.decide(_intent(wants_human=True), InputVerdict(), unanswered_turns=0, message="m",
                             model=ordinary) == "customer_requested_human"


def test_abusive_words_count_unless_the_model_is_sure_it_is_an_ordinary_question():
    abusive = InputVerdict(reasons=["abusive_language"])
    unsure = FixedModel(none=0.7, complaint=0.3)
    sure = FixedModel(none=0.99, complaint=0.01)
    assert escalation.decide(_intent(), abusive, unanswered_turns=0, message="m", model=unsure) == "frustrated_customer"
    assert escalation.decide(_intent(), abusive, unanswered_turns=0, message="m", model=sure) is None


def test_safety_comes_before_a_request_for_a_person_and_a_blocked_message_never_escalates():
    model = FixedModel(none=0.1, safety=0.9)
    assert escalation.decide(_intent(wants_human=True), InputVerdict(), unanswered_turns=0, message="m",
                             model=model) == "safety"
    assert escalation.decide(_intent(wants_human=True), InputVerdict(blocked=True, reasons=["prompt_injection"]),
                             unanswered_turns=0, message="m", model=model) is None


@pytest.mark.parametrize(("message", "reason"), [
    ("my kid's tongue went numb and swollen after licking the bath bomb", "safety"),
    ("Mi bebé se puso todo rojo y con ronchas después del talco", "safety"),
    ("Pourriez-vous me mettre en contact avec une vraie personne?", "human_request"),
    ("I'll be contacting my attorney about this", "legal_threat"),
])
def test_the_trained_model_escalates_in_each_language(message, reason):
    assert escalation_model.reason(message) == reason


@pytest.mark.parametrize("message", [
    "what time does your customer service open tomorrow?", "Je voudrais retourner le chandail, il est trop petit",
    "¿Tienen el jabón de avena en barra grande?", "thanks!! the candle smells amazing",
])
def test_the_trained_model_leaves_ordinary_questions_to_the_desk(message):
    assert escalation_model.reason(message) is None
