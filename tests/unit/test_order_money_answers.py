"""A question about the money of an order (a refund not seen yet, a payment not made, why an order was cancelled) is
answered with the order's own facts (the refund's amount and date, the cancellation's date, the payment still due)
beside the shop's rule, not with the policy alone nor with "which order?"."""

from __future__ import annotations

import functools

from core.agents import knowledge, response
from core.agents.escalation import decide
from core.agents.record_dates import iso_date
from core.integrations.imported_shop import order_facts
from core.models import Citation, CustomerRef, Escalation, InputVerdict, IntentResult, OrderFacts, ShopFacts
from core.rag.answer_units import rank_units
from tests.unit.test_answer_units import WordEmbedder
from tests.unit.test_order_action_dialogue import Chat

OLIVIER = "olivier.cote@example.com"


def _shopify_order(number: int, **fields) -> dict:
    return {"order_number": number, "email": "noah@example.ca", "customer": {"id": 7, "email": "noah@example.ca"},
            "created_at": "2025-05-06T08:10:00-07:00", "currency": "CAD", "total_price": "185.92",
            "financial_status": "paid", "line_items": [{"title": "Bread Knife", "quantity": 1}], **fields}


CANCELLED = _shopify_order(1055, financial_status="refunded", cancelled_at="2025-05-06T09:05:00-07:00", refunds=[
    {"created_at": "2025-05-07T10:15:00-07:00", "transactions": [{"kind": "refund", "amount": "185.92"}]}])
AWAITING = _shopify_order(1060, financial_status="pending", total_price="318.08",
                          created_at="2025-05-15T20:05:00-07:00")
DELIVERED = _shopify_order(1041, fulfillment_status="fulfilled",
                           fulfillments=[{"status": "success", "shipment_status": "delivered"}])


class Shop:
    def __init__(self, *orders: dict):
        self.orders = list(orders)

    def orders_for(self, tenant_id, customer):
        return self.orders

    def find_order(self, tenant_id, number):
        return next((o for o in self.orders if str(o["order_number"]) == str(number)), None)

    def match_products(self, tenant_id, text, limit=3, *, max_staleness=0.0):
        return []


def _facts(shop: Shop, message: str, label: str, customer: CustomerRef | None = CustomerRef(id="7")):
    return knowledge.shop_facts(shop, "t", message, IntentResult(label=label, confidence=0.8, language="en"),
                                customer=customer, slot_order=None, slot_products=[], verified_email=None,
                                currency="CAD", shop_url=None)


def test_the_record_gives_the_refunds_date_and_the_cancellations_date():
    facts = order_facts(CANCELLED)
    assert (facts.refunded, facts.refunded_on, facts.cancelled_on) == ("185.92", "2025-05-07", "2025-05-06")
    assert order_facts(DELIVERED).refunded_on is None and order_facts(DELIVERED).cancelled_on is None


def test_a_cancelled_and_refunded_order_says_when_in_the_customers_language():
    facts = order_facts(CANCELLED)
    english = response.describe_order(facts, "en")
    assert "was cancelled on May 6, 2025." in english
    assert "It was refunded in full on May 7, 2025: 185.92 CAD." in english
    assert "le 7 mai 2025 : 185.92 CAD" in response.describe_order(facts, "fr")
    assert "el 7 de mayo de 2025" in response.describe_order(facts, "es")


def test_an_order_awaiting_its_payment_says_how_much_is_due():
    assert "Its payment of 318.08 CAD has not been received yet." in response.describe_order(
        order_facts(AWAITING), "en")
    assert "payment" not in response.describe_order(order_facts(DELIVERED), "en")


def test_iso_dates_of_a_record_are_written_as_the_customer_writes_them():
    assert iso_date("2024-10-31", "en") == "October 31, 2024"
    assert iso_date("2024-10-31", "fr") == "31 octobre 2024"
    assert iso_date("2024-11-08", "es") == "8 de noviembre de 2024"
    assert iso_date("2024-13-08", "en") == "2024-13-08" and iso_date("soon", "en") == "soon"


def test_a_money_question_of_a_signed_in_customer_finds_their_orders_with_money_news():
    shop = Shop(DELIVERED, CANCELLED, AWAITING)
    refund = _facts(shop, "I cancelled my order and still don't see the refund", "returns_refunds")
    assert [o.order_number for o in refund.orders] == ["1055", "1060"] and refund.order_lookup == "found"
    assert refund.money_context
    payment = _facts(shop, "I picked e-transfer, how do I pay?", "payment_billing")
    assert "1060" in [o.order_number for o in payment.orders]


def test_a_money_question_finds_nothing_without_money_news_nor_for_someone_not_signed_in():
    quiet = _facts(Shop(DELIVERED), "how long do refunds take?", "returns_refunds")
    assert quiet.orders == [] and quiet.order_lookup == "none" and not quiet.money_context
    anonymous = _facts(Shop(CANCELLED), "I still don't see the refund", "returns_refunds", customer=None)
    assert anonymous.orders == [] and anonymous.order_lookup == "none"
    # (a question the records answer lists every recent order, as before)
    assert not _facts(Shop(DELIVERED, CANCELLED), "where is my order?", "order_status").money_context


def test_orders_found_as_context_are_not_what_a_refund_question_asks_back():
    big = OrderFacts(order_number="1050", status="delivered", total="900.00", refunded="55.00")
    intent = IntentResult(label="returns_refunds", confidence=0.9, language="en")
    message = "the rod was refunded, thanks. I'd also like to return the chef knife for a refund"
    assert decide(intent, InputVerdict(), unanswered_turns=0, message=message, orders=[big],
                  refund_limit=150.0) == "refund_above_limit"
    assert decide(intent, InputVerdict(), unanswered_turns=0, message=message, orders=[],
                  refund_limit=150.0) != "refund_above_limit"


def test_a_question_about_a_cancelled_order_gets_its_record_and_the_shops_rule(services):
    state = Chat(services).say(f"Why is my order 1036 cancelled?? I was charged! my email is {OLIVIER}")
    result = state.recorded.result
    assert state.action.refusal == "already_cancelled"
    assert result.reply.startswith("Order #1036 is cancelled")
    assert "Refunded: 78.13 CAD on November 19, 2026." in result.reply
    # the rule quoted after the record, from the page the draft cites
    assert result.citations and not result.citations[0].doc_id.startswith("product-")
    rule = result.reply.split("November 19, 2026.", 1)[1]
    assert result.citations[0].title in rule
    assert result.guardrail.reasons == []


REFUNDS = """# Refunds

When you send it back, we refund it within 3 business days of receiving it.

After we issue it, your bank usually takes 5-10 business days to show it on your statement.
"""


def _money_reply(facts: ShopFacts) -> str:
    citations = [Citation(doc_id="policy-refunds", title="Refunds", score=0.7, passage=REFUNDS)]
    message = "I sent it back two weeks ago and still no refund?? what's going on"
    return response.compose(message, verdict=InputVerdict(),
                            intent=IntentResult(label="returns_refunds", confidence=0.9, language="en"),
                            citations=citations, facts=facts, escalation=Escalation(), language="en",
                            documents={"policy-refunds": REFUNDS},
                            ranker=functools.partial(rank_units, WordEmbedder())).reply


def test_a_refund_the_record_shows_issued_is_answered_with_how_long_the_bank_takes(monkeypatch):
    asked: list[str] = []
    answer = response.policy_answer

    def policy_answer(ranker, question, *args):
        asked.append(question)
        return answer(ranker, question, *args)

    monkeypatch.setattr(response, "policy_answer", policy_answer)
    refunded = OrderFacts(order_number="1207", status="delivered", total="60.00", currency="USD", refunded="16.00",
                          refunded_on="2024-11-08", items=["1 × Room Spray"])
    reply = _money_reply(ShopFacts(orders=[refunded], order_lookup="found", money_context=True))
    assert "5-10 business days to show it on your statement" in reply
    assert "Refunded so far: 16.00 USD, on November 8, 2024." in reply
    assert asked and "how long until it shows on my statement?" in asked[-1]
    # (an order named by the customer is read with the message alone; so is one with no refund issued)
    asked.clear()
    _money_reply(ShopFacts(orders=[refunded], order_lookup="found"))
    assert asked and all("statement" not in q for q in asked)
    asked.clear()
    _money_reply(ShopFacts(orders=[refunded.model_copy(update={"refunded": None, "refunded_on": None})],
                           order_lookup="found", money_context=True))
    assert asked and all("statement" not in q for q in asked)


def test_a_question_about_how_paying_works_does_not_bring_the_refunded_orders():
    shop = Shop(DELIVERED, CANCELLED)
    for message in ("Do you take PayPal? And how much tax do I pay in Montreal?",
                    "¿Aceptan PayPal? ¿Cuánto me cobran de impuestos?", "Vous prenez-tu Interac?"):
        facts = _facts(shop, message, "payment_billing")
        assert facts.orders == [] and not facts.money_context, message
    for message in ("where's my refund? it's been a week", "¿Cuándo veré el reembolso en mi tarjeta?",
                    "Pourquoi j'ai juste reçu 20 $ de remboursement?"):
        facts = _facts(shop, message, "returns_refunds")
        assert [o.order_number for o in facts.orders] == ["1055"] and facts.money_context, message
    # an order still awaiting its payment answers "how do I pay?" all the same
    assert [o.order_number for o in _facts(Shop(AWAITING), "how do I pay by e-transfer?",
                                           "payment_billing").orders] == ["1060"]


def test_the_orders_own_figures_quoted_back_are_not_a_refund_asked_for():
    returned = OrderFacts(order_number="1045", status="delivered", total="128.00", refunded="79.00")
    why = IntentResult(label="returns_refunds", confidence=0.9, language="en",
                       entities={"order_numbers": ["1045"], "amounts": ["$79", "$128"]})
    message = "I sent back the sunglasses from order 1045 but the refund was only $79?? I paid $128. Where's the rest"
    assert decide(why, InputVerdict(), unanswered_turns=0, message=message, orders=[returned],
                  refund_limit=75.0) is None
    # an amount of its own above the limit is still asked back
    more = why.model_copy(update={"entities": why.entities.model_copy(update={"amounts": ["$79", "$128", "$120"]})})
    assert decide(more, InputVerdict(), unanswered_turns=0, message=message + ", I want $120 back", orders=[returned],
                  refund_limit=75.0) == "refund_above_limit"
