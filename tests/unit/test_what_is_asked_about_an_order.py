"""What the customer asks about an order the desk found decides the reply: a received order's item that may be failing
gets what the shop's page says to do about it (its guarantee, what to send), not the order's delivery; a parcel that
is late or seems lost gets the shop's delivery times beside its tracking; a sentence that only gives the order's
number and e-mail is no policy question."""

from __future__ import annotations

import functools

from core.agents import escalation, question_type, response
from core.models import Escalation, EscalationSignals, InputVerdict, IntentResult, OrderFacts, ShopFacts
from core.rag.answer_units import rank_units
from tests.unit.test_answer_units import WordEmbedder
from tests.unit.test_policy_around_records import _order, _turn

WARRANTY = """# Warranty and damaged parcels

## Damaged parcels

If the parcel arrives broken, send us photos of the box within 48 hours of delivery.

## Warranty

Our heaters are guaranteed for 5 years. If one stops working, e-mail us a video of the fault and we send a new one.
"""
ORDER = OrderFacts(order_number="1041", status="delivered", created_at="2026-11-20", items=["1 × Heater 100 W"],
                   carrier="SEUR", tracking_number="SEU2611200471")


def _problem_state(order: OrderFacts, scores: dict[str, float], damaged_part: float = 0.0,
                   message: str = "the heater from order 1041 stopped heating, what do I do?"):
    state = _turn(message, order)
    state.signals = EscalationSignals(scores=scores, damaged_part=damaged_part)
    state.escalation = Escalation()
    return state


def test_a_received_item_the_model_reads_as_failing_is_a_problem_with_the_item():
    failing = {"none": 0.39, "technical_fault": 0.43, "safety": 0.16}
    assert escalation.reads_problem(EscalationSignals(scores=failing))
    assert not escalation.reports_damage(EscalationSignals(scores={"none": 0.69, "damaged_item": 0.09}))
    assert escalation.reads_problem(EscalationSignals(scores={"none": 0.69, "damaged_item": 0.09}, damaged_part=0.44))
    assert not escalation.reads_problem(EscalationSignals(scores={"none": 0.96, "damaged_item": 0.03}))
    assert response.item_problem(_problem_state(ORDER, failing))
    assert response.item_problem(_problem_state(ORDER, {"none": 0.69, "damaged_item": 0.09}, damaged_part=0.44))
    # an ordinary question about a received order is not one
    assert not response.item_problem(_problem_state(ORDER, {"none": 0.96, "damaged_item": 0.03},
                                                    message="order 1041 arrived, can you send me its invoice?"))
    # the escalation model unsure, the return-reason model reads the item as defective: a problem all the same
    assert response.item_problem(_problem_state(ORDER, {"none": 0.96, "damaged_item": 0.03}))
    # with no order found, one model's reading is not enough
    unsure = _problem_state(ORDER, {"none": 0.96, "damaged_item": 0.03})
    unsure.facts = ShopFacts()
    assert not response.item_problem(unsure)
    # the customer does not hold an order still on its way: its status answers
    assert not response.item_problem(_problem_state(_order("shipped"), failing))


def test_a_failing_item_gets_its_guarantee_and_a_damaged_parcel_the_photos_of_the_box():
    kwargs = {"verdict": InputVerdict(), "intent": IntentResult(label="order_status", confidence=0.9, language="en"),
              "citations": [response.Citation(doc_id="policy-warranty", title="Warranty", score=0.7,
                                              passage=WARRANTY)],
              "facts": ShopFacts(order_lookup="found", orders=[ORDER]), "escalation": Escalation(), "language": "en",
              "documents": {"policy-warranty": WARRANTY}, "ranker": functools.partial(rank_units, WordEmbedder())}
    message = "the heater from order 1041 stopped heating, what do I do?"
    failing = response.compose(message, damage_report=message, fault=True, **kwargs).reply
    assert failing.startswith("Order #1041") and "video of the fault" in failing and "48 hours" not in failing
    broken = response.compose("order 1041 arrived broken", damage_report="order 1041 arrived broken", **kwargs).reply
    assert "photos of the box within 48 hours" in broken
    # without a reported problem, the order's delivery alone
    assert "Warranty" not in response.compose(message, **kwargs).reply


def test_a_late_parcel_is_asked_about_with_the_shops_delivery_times():
    shipped = _order("shipped")
    for message in ("It shipped on the 12th and still isn't here in Minneapolis. Is it lost??",
                    "Buenas, hice el pedido 4306 el sábado. ¿Cuándo me llega?",
                    "Ma commande 4306 est partie le 8 novembre pis je l'ai toujours pas reçue. Est-ce normal?"):
        assert question_type.asks_order_time(message), message
        question = response.order_question(_turn(message, shipped))
        assert question is not None and question.startswith(message.split()[0])
        assert question.endswith(response._DELIVERY_TIME_NO_METHOD["en"]), question
    by_method = shipped.model_copy(update={"shipping_method": "Canada Post Expedited – Quebec and Atlantic"})
    question = response.order_question(_turn(
        "It supposedly shipped Nov 30 and still nothing here in Halifax. Is it lost??", by_method))
    assert question is not None and "by Canada Post Expedited – Quebec and Atlantic" in question
    for message in ("where is my order 4306?", "what's the tracking number for my order?"):
        assert not question_type.asks_order_time(message), message
        assert response.order_question(_turn(message, shipped)) is None


def test_a_sentence_giving_only_the_orders_number_and_email_is_no_policy_question():
    assert response._gives_identifiers("Order #1047, email kevin.obrien@example.com.")
    assert response._gives_identifiers("mi pedido es #1048, correo valeria.hdz@example.com.")
    assert not response._gives_identifiers("Can I return order 1047 after 30 days?")
    assert not response._gives_identifiers("Do you ship to Halifax?")
    message = "Order #1047, email kevin.obrien@example.com. It shipped Nov 30 and still nothing here. Is it lost??"
    assert response.policy_question(message) is None
