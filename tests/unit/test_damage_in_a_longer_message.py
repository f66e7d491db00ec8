"""A broken, spoiled or defective item reported in one sentence of a longer message (beside a complaint, a request for
a person or a grumble about the price) is read as a damaged item: the ticket goes to a person and the reply quotes what
the shop's page asks for, whatever the ticket's reason; a return for fit or a change of mind whose sentence alone looks
like damage stays with the desk."""

from __future__ import annotations

import numpy as np

from core.agents import escalation, response
from core.models import Escalation, EscalationSignals, InputVerdict
from tests.unit.test_damaged_item_handoff import _reply
from tests.unit.test_escalation_false_handoffs import _state
from tests.unit.test_escalation_model import _intent

REASONS = ("none", "damaged_item", "human_request", "frustration")


class SentenceModel:
    """Stands in for the trained pipeline: ``whole`` for the whole message, else the probabilities of the first of
    its rules whose words the text (a sentence) holds, else ``other``."""

    def __init__(self, message: str, whole: dict[str, float], rules: list[tuple[str, dict[str, float]]],
                 other: dict[str, float] | None = None):
        self.classes_ = np.array(REASONS)
        self.message, self.whole, self.rules = message, whole, rules
        self.other = other or {"none": 0.9, "frustration": 0.1}

    def predict_proba(self, texts):
        rows = []
        for text in texts:
            scores = self.whole if text == self.message else next(
                (p for words, p in self.rules if words in text), self.other)
            rows.append([scores.get(label, 0.0) for label in REASONS])
        return np.array(rows)


CRUSHED = "My parcel came today and both bars are crushed, the soap is mush. I paid $40 for this. I want a real person."
WHOLE = {"none": 0.1, "human_request": 0.5, "damaged_item": 0.3, "frustration": 0.1}


def _model(message: str, whole: dict[str, float], sentence: dict[str, float]) -> SentenceModel:
    return SentenceModel(message, whole, [("crushed", sentence), ("real person", {"none": 0.02,
                                                                                   "human_request": 0.98})])


def test_the_damage_in_one_sentence_is_read_beside_a_request_for_a_person():
    model = _model(CRUSHED, WHOLE, {"none": 0.02, "damaged_item": 0.98})
    signals = escalation.read_message(_intent("complaint_escalation"), CRUSHED, model)
    assert signals.damaged_part == 0.98
    assert escalation.reports_damage(signals)
    # the shop's pages are searched with the sentence that tells the damage, not with the grumble around it
    assert escalation.damage_report(signals, CRUSHED) == \
        "My parcel came today and both bars are crushed, the soap is mush."
    # the ticket's reason stays the request for a person; the damage is still reported
    assert escalation.decide(_intent("complaint_escalation"), InputVerdict(), unanswered_turns=0, message=CRUSHED,
                             signals=signals) == "customer_requested_human"


def test_a_damage_sentence_hands_off_a_message_the_model_does_not_escalate_as_a_whole():
    whole = {"none": 0.7, "damaged_item": 0.2, "frustration": 0.1}
    message = "Order 4307 came yesterday. One tire has a slice in the sidewall, it was crushed in the box. What now?"
    signals = escalation.read_message(_intent("order_status"), message,
                                      _model(message, whole, {"none": 0.1, "damaged_item": 0.9}))
    assert escalation.decide(_intent("order_status"), InputVerdict(), unanswered_turns=0, message=message,
                             signals=signals) == "damaged_item"
    # a sentence the model is unsure of is not enough
    unsure = escalation.read_message(_intent("order_status"), message,
                                     _model(message, whole, {"none": 0.45, "damaged_item": 0.55}))
    assert not escalation.reports_damage(unsure)
    assert escalation.damage_report(unsure, message) == message
    assert escalation.decide(_intent("order_status"), InputVerdict(), unanswered_turns=0, message=message,
                             signals=unsure) is None


def test_a_message_the_model_is_sure_is_ordinary_is_not_read_sentence_by_sentence():
    message = "Got the climbing shoes two weeks ago, wore them once and they're too tight. Can I still return them?"
    whole = {"none": 0.96, "damaged_item": 0.02, "frustration": 0.02}
    model = SentenceModel(message, whole, [("too tight", {"damaged_item": 0.9, "none": 0.1})])
    signals = escalation.read_message(_intent("returns_refunds"), message, model)
    assert signals.damaged_part == 0.0 and not escalation.reports_damage(signals)
    assert escalation.decide(_intent("returns_refunds"), InputVerdict(), unanswered_turns=0, message=message,
                             signals=signals) is None


def test_the_hand_off_of_a_damage_report_for_another_reason_quotes_the_shops_page():
    handed = Escalation(escalated=True, ticket_id="T-0000BBBB", reason="customer_requested_human")
    reply = response.compose("my order 5120 arrived broken, I want a person", **_compose_kw(handed),
                             damage_report="my order 5120 arrived broken").reply
    assert "photo of the item and of the box within 7 days" in reply
    assert "Order #5120" in reply and reply.index("photo of the item") < reply.index("T-0000BBBB")
    # without the damage reading, the request for a person gets the order and the hand-off alone
    assert "photo" not in _reply("my order 5120 arrived broken, I want a person", handed)


def test_damage_is_reported_only_for_a_turn_handed_to_a_person():
    state = _state("the bowl came in pieces, I want someone to call me", unanswered_before=0)
    state.signals = EscalationSignals(scores={"none": 0.1, "human_request": 0.9}, damaged_part=0.95)
    state.escalation = Escalation(escalated=True, ticket_id="T-1", reason="customer_requested_human")
    assert response.damage_reported(state)
    state.signals = EscalationSignals(scores={"none": 0.1, "human_request": 0.9}, damaged_part=0.2)
    assert not response.damage_reported(state)
    state.escalation = Escalation(escalated=True, ticket_id="T-1", reason="damaged_item")
    assert response.damage_reported(state)
    state.escalation = Escalation()
    state.signals = EscalationSignals(scores={"none": 0.1, "damaged_item": 0.9}, damaged_part=0.95)
    assert not response.damage_reported(state)


def _compose_kw(escalated: Escalation) -> dict:
    import functools

    from core.models import IntentResult, ShopFacts
    from core.rag.answer_units import rank_units
    from tests.unit.test_answer_units import WordEmbedder
    from tests.unit.test_damaged_item_handoff import CITATIONS, GUARANTEE, ORDER

    return {"verdict": InputVerdict(), "intent": IntentResult(label="order_status", confidence=0.9, language="en"),
            "citations": CITATIONS, "facts": ShopFacts(order_lookup="found", orders=[ORDER]),
            "escalation": escalated, "language": "en", "documents": {"policy-guarantee": GUARANTEE},
            "ranker": functools.partial(rank_units, WordEmbedder())}
