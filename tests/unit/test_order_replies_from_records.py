"""Order replies that answer from the order's record and the shop's pages together: a pickup order waiting at the
shop (and its pickup hours), the shipping fee paid when asked, a damaged item's steps with no order found, a
question about the shop's hours asked beside "my order", and an e-mail which is not the order's, said not to match
(the turn recorded as blocked)."""

from __future__ import annotations

import functools

from core.agents import response
from core.models import Escalation, InputVerdict, IntentResult, OrderFacts, ShopFacts
from core.rag.answer_units import rank_units
from tests.unit.test_answer_units import WordEmbedder
from tests.unit.test_order_action_dialogue import Chat
from tests.unit.test_policy_around_records import CITATIONS, DOCUMENTS, _compose, _order, _turn


def _pickup() -> OrderFacts:
    return _order("unfulfilled").model_copy(update={"shipping_method": "Local pickup — Main Street store",
                                                    "shipping_price": "0.00"})


def test_a_pickup_order_is_waiting_to_be_picked_up_not_unshipped():
    text = response.describe_order(_pickup(), "en")
    assert "is a pickup order: it has not been picked up yet" in text and "shipped" not in text
    assert "pas encore été récupérée" in response.describe_order(_pickup(), "fr")
    shipped = _order("unfulfilled").model_copy(update={"shipping_method": "Canada Post Expedited"})
    assert "has not shipped yet" in response.describe_order(shipped, "en")


def test_a_question_about_a_pickup_order_is_answered_with_the_pickup_hours():
    question = response.order_question(_turn("is my order ready? can I come get it tomorrow at 9?", _pickup()))
    assert question is not None and "Store opening hours for pickup" in question
    draft = response.compose("is my order ready? can I come get it tomorrow at 9?", verdict=InputVerdict(),
                             intent=IntentResult(label="order_status", confidence=0.9, language="en"),
                             citations=CITATIONS, facts=ShopFacts(order_lookup="found", orders=[_pickup()]),
                             escalation=Escalation(), language="en", documents=DOCUMENTS,
                             ranker=functools.partial(rank_units, WordEmbedder()), order_question=question)
    # (the shop's pickup page, after the order: the word ranker of this test reads its sentences, not its table)
    assert draft.reply.startswith("Order #4306") and "From our Visit us & in-store pickup:" in draft.reply
    assert [c.doc_id for c in draft.citations] == ["policy-pickup"]


def test_the_shipping_fee_paid_is_given_when_asked_how_much():
    order = _order("shipped").model_copy(update={"shipping_method": "UPS Ground", "shipping_price": "14.95",
                                                 "currency": "USD"})
    facts = ShopFacts(order_lookup="found", orders=[order])
    asked = _compose("how much did I pay for shipping on order 4306?", "order_status", facts)
    assert "Shipping paid: 14.95 USD (UPS Ground)." in asked
    assert "Shipping paid" not in _compose("where is my order 4306?", "order_status", facts)


def test_a_damaged_item_with_no_order_found_gets_the_pages_steps_with_the_handoff():
    draft = response.compose("The pot arrived cracked, what now?", verdict=InputVerdict(),
                             intent=IntentResult(label="returns_refunds", confidence=0.9, language="en"),
                             citations=CITATIONS, facts=ShopFacts(), language="en", documents=DOCUMENTS,
                             escalation=Escalation(escalated=True, reason="damaged_item", ticket_id="T-1"),
                             ranker=functools.partial(rank_units, WordEmbedder()))
    assert "photo within 48 hours" in draft.reply and "T-1" in draft.reply


def test_a_question_about_the_hours_beside_my_order_is_answered_not_asked_the_order_number():
    reply = _compose("What are your opening hours on Saturday? I want to pick up my order.", "order_status",
                     ShopFacts())
    assert "order number" not in reply and "10 a.m. - 4 p.m." in reply
    assert "order number" in _compose("Where is my order? It's been a week.", "order_status", ShopFacts())


def test_an_email_that_is_not_the_orders_is_said_not_to_match_and_blocked(services):
    chat = Chat(services)
    chat.say("Where is order #1001?")
    wrong = chat.say("my email is someone.else@example.com").recorded.result
    assert "doesn't match" in wrong.reply and "Canada Post" not in wrong.reply
    assert wrong.guardrail.blocked and wrong.guardrail.reasons == ["identity_not_proven"]
    right = chat.say("sorry, it's marie-eve.gagnon@example.com").recorded.result
    assert "#1001" in right.reply and not right.guardrail.blocked


def test_a_missing_email_is_still_asked_for_and_not_blocked(services):
    result = Chat(services).say("Where is order #1001?").recorded.result
    assert "email" in result.reply and not result.guardrail.blocked
