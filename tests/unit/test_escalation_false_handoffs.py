"""Ordinary questions stay with the desk: a number beside a product is no group order unless the escalation model
doubts the message is ordinary, thanks after an unanswered question is no repeated failure, and a product's price in a
question about the return policy is no refund above the shop's limit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.agents import escalation, question_type
from core.models import Citation, Entities, EscalationSignals, InputVerdict, IntentResult, OrderFacts, TurnInput
from core.tenants import TenantConfig
from core.turn.state import TurnContext, TurnState
from tests.unit.test_escalation_model import FixedModel

TENANT = Path(__file__).resolve().parents[1] / "fixtures" / "tenants" / "maple-paws" / "tenant.json"


def _intent(label="product_info", **kw) -> IntentResult:
    return IntentResult(label=label, confidence=0.9, language="en", **kw)


@pytest.mark.parametrize("message", [
    "is the Galaxy S24 128GB in black in stock?", "do you have the 8 inch planter in white?",
    "100 points, ça donne combien de rabais?", "¿tienen funda para el iphone 15 pro?", "the 45W one please",
])
def test_a_number_beside_a_product_is_no_group_order_when_the_model_is_sure_the_message_is_ordinary(message):
    ordinary = FixedModel(none=0.99, bulk_business=0.005, complaint=0.005)
    assert escalation.read_message(_intent(), message, ordinary).bulk_order is False
    assert escalation.decide(_intent(), InputVerdict(), unanswered_turns=0, message=message, model=ordinary) is None


@pytest.mark.parametrize("message", [
    "I need 200 small bars for the rooms of my inn", "On voudrait 15 sacs de couchage pis 6 tentes pour l'été",
    "quiero comprar 25 juegos para mis clases",
])
def test_a_quantity_in_a_message_the_model_is_unsure_about_is_a_group_order(message):
    # Below the model's own bar (it alone would not escalate), yet not sure the message is ordinary.
    corroborating = FixedModel(none=0.75, bulk_business=0.2, complaint=0.05)
    assert escalation.read_message(_intent(), message, corroborating).bulk_order is True
    assert escalation.decide(_intent(), InputVerdict(), unanswered_turns=0, message=message,
                             model=corroborating) == "bulk_order"


def _state(message: str, *, unanswered_before: int, citations: int = 0) -> TurnState:
    tenant = TenantConfig.model_validate(json.loads(TENANT.read_text(encoding="utf-8")))
    state = TurnState(turn=TurnInput(tenant_id=tenant.id, conversation_id="c1", turn_id="t2", message=message,
                                     trace_id="0" * 32, received_at="2026-11-25T12:00:00+00:00"))
    state.context = TurnContext(tenant=tenant, unanswered_turns=unanswered_before)
    state.screen = InputVerdict()
    state.intent = _intent("general")
    state.signals = EscalationSignals(scores={"none": 0.99, "complaint": 0.01})
    state.citations = [Citation(doc_id=f"d{i}", title="t", score=0.5, passage="p") for i in range(citations)]
    return state


def test_small_talk_after_an_unanswered_question_is_no_repeated_failure(monkeypatch):
    monkeypatch.setattr(question_type, "small_talk", lambda text: "thanks" if "merci" in text else None)
    assert escalation.reason_for(_state("Parfait merci, bonne journée!", unanswered_before=1)) is None
    assert escalation.reason_for(_state("and to Alaska?", unanswered_before=1)) == "repeated_failure"
    assert escalation.reason_for(_state("and to Alaska?", unanswered_before=1, citations=1)) is None


def test_off_topic_still_counts_as_unanswered(monkeypatch):
    monkeypatch.setattr(question_type, "small_talk", lambda text: "off_topic")
    assert escalation.reason_for(_state("write me a poem", unanswered_before=1)) == "repeated_failure"


def test_the_question_type_model_is_asked_only_when_failures_would_repeat(monkeypatch):
    def unexpected(text):
        raise AssertionError("asked")

    monkeypatch.setattr(question_type, "small_talk", unexpected)
    assert escalation.reason_for(_state("merci!", unanswered_before=0)) is None
    assert escalation.reason_for(_state("merci!", unanswered_before=1, citations=2)) is None


def test_thanks_is_small_talk_to_the_trained_question_type_model():
    assert question_type.small_talk("Parfait merci beaucoup, bonne fin de semaine!") in escalation.ANSWERED_SMALL_TALK


def test_a_price_in_a_question_about_returns_is_no_refund_above_the_limit():
    ordinary = FixedModel(none=0.95, refund_decision=0.05)
    refund = _intent("returns_refunds", entities=Entities(amounts=["$49"]))
    question = "the $49 kettle: if I don't like it, can I return it within 30 days?"
    assert escalation.decide(refund, InputVerdict(), unanswered_turns=0, message=question, refund_limit=40.0,
                             model=ordinary) is None
    # Asked for, or about an order in play, the same amount is the limit's to decide.
    assert escalation.decide(refund, InputVerdict(), unanswered_turns=0, message="I want a refund of $49",
                             refund_limit=40.0, model=ordinary) == "refund_above_limit"
    assert escalation.decide(refund, InputVerdict(), unanswered_turns=0, refund_limit=40.0, model=ordinary,
                             message="the $49 kettle came broken, I want my money back now!!") == "refund_above_limit"
    # About an order in play, asking for the return is the limit's to decide; asking how it would go is not.
    order = OrderFacts.model_validate({"order_number": "1042", "status": "delivered", "total": "49.00"})
    assert escalation.decide(refund, InputVerdict(), unanswered_turns=0, message="I want to return the $49 kettle",
                             orders=[order], refund_limit=40.0, model=ordinary) == "refund_above_limit"
    assert escalation.decide(refund, InputVerdict(), unanswered_turns=0, message=question, orders=[order],
                             refund_limit=40.0, model=ordinary) is None


@pytest.mark.parametrize(("message", "reason"), [
    # how a return or an exchange of a large order would go is the policy's to answer
    ("if I end up returning it, who pays for the return shipping?", None),
    ("Pis si finalement je la retourne, c'est moi qui paye l'envoi?", None),
    ("¿ni siquiera cambiarla por otra talla?", None),
    ("y si no la uso, ¿hasta cuándo la puedo devolver?", None),
    # asking for its money back or its return is the limit's
    ("I'd like to return it please", "refund_above_limit"),
    ("je veux un remboursement pour cette commande", "refund_above_limit"),
    ("quiero que me devuelvan el dinero de este pedido", "refund_above_limit"),
])
def test_a_large_orders_total_counts_against_the_limit_only_when_its_refund_or_return_is_asked(message, reason):
    refund = _intent("returns_refunds")
    large = [OrderFacts.model_validate({"order_number": "1042", "status": "delivered", "total": "219.00"})]
    ordinary = FixedModel(none=0.97, refund_decision=0.03)
    assert escalation.decide(refund, InputVerdict(), unanswered_turns=0, message=message, orders=large,
                             refund_limit=100.0, model=ordinary) == reason


@pytest.mark.parametrize("message", [
    "can I pay with amex next time? or split it with klarna, the light was like 170 eur",
    "the courier wants proof of age?? I'm 34 lol. what do I do now",
    "me regalaron un acuario de 60 litros, ¿qué calentador compro? el salón baja a 16 grados",
])
def test_a_number_in_a_message_the_model_reads_as_something_else_is_no_group_order(message):
    # Unsure the message is ordinary, but reading it (if as anything) as another reason than a group order.
    other = FixedModel(none=0.8, legal_threat=0.1, safety=0.06, bulk_business=0.04)
    assert escalation.read_message(_intent(), message, other).bulk_order is False


def test_a_returns_question_naming_a_price_keeps_the_models_refund_decision():
    deciding = FixedModel(none=0.2, refund_decision=0.8)
    refund = _intent("returns_refunds", entities=Entities(amounts=["$49"]))
    assert escalation.decide(refund, InputVerdict(), unanswered_turns=0, refund_limit=40.0, model=deciding,
                             message="the $49 kettle came cracked, can I return it?") == "refund_decision"
