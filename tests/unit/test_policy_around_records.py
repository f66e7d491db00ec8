"""A question about a policy around an order or a product the shop's records hold ("can I return it?", "when can I
pick it up?", "do you ship it to Minnesota?") is answered from the policy, with the order's or the product's own
facts beside it; a question the records answer (where is my order, is it in stock) gets those alone."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

from core.agents import question_type, response
from core.models import Citation, Escalation, InputVerdict, IntentResult, OrderFacts, ProductFacts, ShopFacts, TurnInput
from core.rag.answer_units import rank_units
from core.tenants import TenantConfig
from core.turn.state import TurnContext, TurnState
from tests.unit.test_answer_units import WordEmbedder

RETURNS = """# Returns & exchanges

You have 30 days from delivery to return an unused item for a refund.

Send us a photo within 48 hours if something arrives broken, and we send a replacement.
"""

PICKUP = """# Visit us & in-store pickup

| Day | Hours |
|---|---|
| Monday to Friday | 10 a.m. - 6 p.m. |
| Saturday | 10 a.m. - 4 p.m. |

Bring the pickup e-mail and a photo ID when you come to pick up your order.
"""

SHIPPING = """# Shipping

We ship to Canada and the United States only.

| Destination | Rate | Delivery time |
|---|---|---|
| United States | $24.00 | 6-12 business days |
"""

POT_PAGE = """Classic terracotta pot with a saucer, unglazed.

Variant 6" (SKU P-6): 18.00 CAD, in stock.
"""

CITATIONS = [
    Citation(doc_id="policy-returns", title="Returns & exchanges", score=0.72, passage=RETURNS),
    Citation(doc_id="policy-pickup", title="Visit us & in-store pickup", score=0.7, passage=PICKUP),
    Citation(doc_id="policy-shipping", title="Shipping", score=0.69, passage=SHIPPING),
]
DOCUMENTS = {"policy-returns": RETURNS, "policy-pickup": PICKUP, "policy-shipping": SHIPPING,
             "product-pot": POT_PAGE}


def _order(status: str = "delivered") -> OrderFacts:
    return OrderFacts(order_number="4306", status=status, created_at="2026-11-08", items=["1 × Calathea"],
                      carrier="Canada Post", tracking_number="7023881500560318")


def _compose(message: str, label: str, facts: ShopFacts, citations: list[Citation] = CITATIONS) -> str:
    draft = response.compose(message, verdict=InputVerdict(), intent=IntentResult(label=label, confidence=0.9,
                                                                                  language="en"),
                             citations=citations, facts=facts, escalation=Escalation(), language="en",
                             documents=DOCUMENTS, ranker=functools.partial(rank_units, WordEmbedder()))
    return draft.reply


def test_a_message_is_read_topic_by_topic_sentence_by_sentence():
    assert question_type.message_parts("hey is my order ready yet? can I come pick it up tomorrow afternoon") == [
        "hey is my order ready yet?", "can I come pick it up tomorrow afternoon"]
    assert question_type.message_parts("where is my order #4312?") == []
    assert question_type.message_parts("ok. where is my order?") == []  # "ok." asks nothing of its own
    asked = question_type.asked_topics("Where is my order? Can I return the scarf for a refund?")
    assert [topic for _, topic, _ in asked] == ["order_status", "order_status", "returns_refunds"] or \
        asked[2][1] == "returns_refunds"
    assert all(0.0 <= probability <= 1.0 for _, _, probability in asked)


@pytest.mark.parametrize(("message", "expected"), [
    ("Can I return it for a refund? I never used it.", ("Can I return it for a refund? I never used it.", True)),
    ("¿Puedo devolverlo? Nunca lo usé.", ("¿Puedo devolverlo? Nunca lo usé.", True)),
    ("Where is my order? It's been a week.", None),
    ("Où est ma commande?", None),
    ("y cuanto tarda en llegar?", ("y cuanto tarda en llegar?", True)),  # a short follow-up asks all the same
    ("jane.doe@example.com", None),
    ("awesome thanks, see you tomorrow!", None),  # small talk asks nothing of a policy
])
def test_the_policy_part_of_a_message_is_found_by_its_topic(message, expected):
    assert response.policy_question(message) == expected


def test_a_status_question_with_a_policy_part_keeps_the_status_first():
    question = response.policy_question("Where is my order? It still hasn't shipped. Do you also ship to the "
                                        "United States, and how much is it?")
    assert question == ("Do you also ship to the United States, and how much is it?", False)


def test_a_return_question_about_a_found_order_is_answered_from_the_policy_with_the_order():
    facts = ShopFacts(order_lookup="found", orders=[_order()])
    reply = _compose("The calathea from my order arrived broken. Can you send a replacement?", "returns_refunds",
                     facts)
    assert "photo within 48 hours" in reply
    assert "Order #4306" in reply and "Canada Post" in reply  # the order's facts that matter stay
    assert reply.index("photo within 48 hours") < reply.index("Order #4306")  # the answer first


def test_a_pickup_question_after_the_status_gets_the_pickup_policy_after_the_order():
    facts = ShopFacts(order_lookup="found", orders=[_order("unfulfilled")])
    reply = _compose("Is my order ready yet? What do I need to bring when I come to pick it up?", "order_status",
                     facts)
    assert reply.startswith("Order #4306") and "photo ID" in reply


def test_a_status_question_gets_the_order_alone():
    facts = ShopFacts(order_lookup="found", orders=[_order("shipped")])
    reply = _compose("Where is my order #4306? It's been a week.", "order_status", facts)
    assert reply.startswith("Order #4306") and "30 days" not in reply and "photo" not in reply


def test_a_shipping_question_naming_a_product_variant_is_answered_from_the_shipping_policy():
    pot = ProductFacts(product_id="9", doc_id="product-pot", title="Classic Terracotta Pot", price="18.00",
                       currency="CAD", in_stock=True, quantity=5,
                       variants=[{"title": '6"', "price": "18.00", "in_stock": True},
                                 {"title": '10"', "price": "32.00", "in_stock": True}])
    citations = [Citation(doc_id="product-pot", title="Classic Terracotta Pot", score=0.8, passage=POT_PAGE),
                 CITATIONS[2], *CITATIONS[:2]]
    reply = _compose('Do you ship to the United States? How much is delivery for the 6" pot there?', "shipping",
                     ShopFacts(products=[pot]), citations)
    assert "6-12 business days" in reply or "$24.00" in reply
    assert "Yes, Classic Terracotta Pot" not in reply  # stock after a policy is not a yes to the question


WARRANTY = """# Warranty

Every phone has a 12-month warranty against defects in parts and workmanship.

Water damage is not covered, even on a water-resistant phone: water resistance wears off over time.
"""

PHONE_PAGE = """Refurbished, tested, cleaned and data-erased.

Variant 128GB (SKU I-14): 449.00 USD, in stock.
"""


def test_a_policy_question_about_a_product_is_answered_by_the_unit_the_whole_story_points_to():
    phone = ProductFacts(product_id="7", doc_id="product-iphone-14", title="iPhone 14", price="449.00",
                         currency="USD", in_stock=True, quantity=3)
    message = ("dropped my iphone 14 in the pool for like 2 secs, now the speaker sounds muffled and the screen "
               "flickers. its supposed to be water resistant so thats a warranty thing right??")
    assert response.policy_question(message) is not None
    citations = [Citation(doc_id="product-iphone-14", title="iPhone 14", score=0.8, passage=PHONE_PAGE),
                 Citation(doc_id="policy-warranty", title="Warranty", score=0.7, passage=WARRANTY)]
    documents = {"policy-warranty": WARRANTY, "product-iphone-14": PHONE_PAGE}
    draft = response.compose(message, verdict=InputVerdict(), intent=IntentResult(
        label="product_info", confidence=0.9, language="en"), citations=citations, facts=ShopFacts(products=[phone]),
        escalation=Escalation(), language="en", documents=documents,
        ranker=functools.partial(rank_units, WordEmbedder()))
    assert "Water damage is not covered" in draft.reply
    assert "Yes, iPhone 14" not in draft.reply


def test_a_listed_customers_older_closed_orders_are_named_without_their_tracking():
    recent = OrderFacts(order_number="4312", status="unfulfilled", created_at="2026-11-20", items=["2 × Lip Balm"])
    older = OrderFacts(order_number="4302", status="delivered", created_at="2026-10-02", items=["1 × Soap"],
                       carrier="USPS", tracking_number="CP482915734US", note="Left at the side door.")
    shipped = OrderFacts(order_number="4300", status="shipped", created_at="2026-09-30", items=["1 × Gel"],
                         carrier="USPS", tracking_number="9400111899")
    listed = " ".join(response.describe_orders([recent, older, shipped], "en", listed=True))
    assert "Order #4302 (placed 2026-10-02: 1 × Soap) was delivered." in listed
    assert "CP482915734US" not in listed and "side door" not in listed
    assert "9400111899" in listed  # an order still on its way keeps its tracking
    named = " ".join(response.describe_orders([older, recent], "en", listed=False))
    assert "CP482915734US" in named  # an order the customer named is described in full
    first = response.describe_orders([older], "fr", listed=True)[0]
    assert "CP482915734US" in first  # the most recent one too, even when delivered


DELIVERY = """# Delivery problems

If the carrier leaves a delivery notice card after a delivery attempt, pick your parcel up at the post office within
5 business days.
"""


def test_a_parcel_the_carrier_could_not_deliver_comes_with_the_shops_rule_for_that_case():
    stuck = OrderFacts(order_number="4310", status="shipped", created_at="2026-11-18", items=["1 × Cat Cave"],
                       carrier="Canada Post", tracking_number="7023884101164318",
                       shipment_status="attempted_delivery")
    pickup = Citation(doc_id="article-delivery", title="Delivery problems", score=0.7, passage=DELIVERY)
    reply = _compose("Where is my order #4310?", "order_status", ShopFacts(order_lookup="found", orders=[stuck]),
                     [CITATIONS[0], pickup, CITATIONS[2]])
    assert reply.startswith("Order #4310") and "delivery attempted" in reply
    assert "post office within 5 business days" in reply
    on_its_way = stuck.model_copy(update={"shipment_status": "in_transit"})
    reply = _compose("Where is my order #4310?", "order_status",
                     ShopFacts(order_lookup="found", orders=[on_its_way]), [CITATIONS[0], pickup, CITATIONS[2]])
    assert "post office" not in reply


def test_the_policy_answer_cites_its_page_so_the_output_critic_grounds_its_figures_there():
    draft = response.compose("My order 4306 came yesterday, can I still return it?", verdict=InputVerdict(),
                             intent=IntentResult(label="returns_refunds", confidence=0.9, language="en"),
                             citations=CITATIONS[:1], facts=ShopFacts(orders=[_order()]), escalation=Escalation(),
                             language="en", documents=DOCUMENTS, ranker=functools.partial(rank_units, WordEmbedder()))
    assert "30 days" in draft.reply
    assert [c.doc_id for c in draft.citations] == ["policy-returns"]


PACKING = """# Shipping

Orders placed before noon leave the same day; later orders ship within 1-2 business days.

| Destination | Rate | Delivery time |
|---|---|---|
| Quebec | $12.00 | 2-4 business days |
"""


def _turn(message: str, order: OrderFacts, history: list[dict] | None = None) -> TurnState:
    tenant_file = Path(__file__).resolve().parents[1] / "fixtures" / "tenants" / "maple-paws" / "tenant.json"
    tenant = TenantConfig.model_validate(json.loads(tenant_file.read_text(encoding="utf-8")))
    state = TurnState(turn=TurnInput(tenant_id=tenant.id, conversation_id="c1", turn_id="t1", message=message,
                                     trace_id="0" * 32, received_at="2026-11-25T12:00:00+00:00"))
    state.context = TurnContext(tenant=tenant, history=history or [])
    state.screen = InputVerdict()
    state.intent = IntentResult(label="order_status", confidence=0.9, language="en")
    state.facts = ShopFacts(order_lookup="found", orders=[order])
    return state


def test_an_unshipped_order_is_asked_about_with_its_status_and_a_shipped_one_only_for_a_time():
    waiting = _order("unfulfilled")
    question = response.order_question(_turn("When are you going to send my order 4306?", waiting))
    assert question is not None and question.startswith("When are you going to send my order 4306?")
    assert "has not shipped yet" in question
    shipped = _order("shipped")
    assert response.order_question(_turn("Where is my order 4306?", shipped)) is None  # its tracking answers
    assert response.order_question(_turn("My order 4306 still isn't here, it's been over a week", shipped))
    assert response.order_question(_turn("Where is my order 4306?", _order("delivered"))) is None


def test_the_question_an_email_answers_is_the_one_asked_before_it():
    history = [{"user": "hi, when will you ship order 4306?", "reply": "What is the e-mail on the order?"}]
    question = response.order_question(_turn("jane.doe@example.com", _order("unfulfilled"), history))
    assert question is not None and question.startswith("hi, when will you ship order 4306?")
    assert response.order_question(_turn("jane.doe@example.com", _order("unfulfilled"))) is None


def test_an_unshipped_orders_status_comes_with_the_shops_shipping_days():
    facts = ShopFacts(order_lookup="found", orders=[_order("unfulfilled")])
    packing = Citation(doc_id="policy-shipping", title="Shipping", score=0.7, passage=PACKING)
    documents = {"policy-shipping": PACKING}
    question = "When will my order ship? (has not shipped yet)"
    draft = response.compose("When will my order ship?", verdict=InputVerdict(), intent=IntentResult(
        label="order_status", confidence=0.9, language="en"), citations=[packing], facts=facts,
        escalation=Escalation(), language="en", documents=documents,
        ranker=functools.partial(rank_units, WordEmbedder()), order_question=question)
    assert draft.reply.startswith("Order #4306") and "1-2 business days" in draft.reply
    assert [c.doc_id for c in draft.citations] == ["policy-shipping"]
    without = response.compose("When will my order ship?", verdict=InputVerdict(), intent=IntentResult(
        label="order_status", confidence=0.9, language="en"), citations=[packing], facts=facts,
        escalation=Escalation(), language="en", documents=documents,
        ranker=functools.partial(rank_units, WordEmbedder()))
    assert "business days" not in without.reply


def test_the_parts_after_an_orders_status_get_the_units_of_the_pages_they_retrieved_alone():
    message = "is my order ready yet? can i come grab it on saturday, what hours?"
    parts = response.question_parts(message)
    assert len(parts) == 2
    facts = ShopFacts(order_lookup="found", orders=[_order("unfulfilled")])
    pickup = Citation(doc_id="policy-pickup", title="Visit us & in-store pickup", score=0.6, passage=PICKUP)
    draft = response.compose(message, verdict=InputVerdict(), intent=IntentResult(label="order_status", confidence=0.9,
                                                                         language="en"),
                             citations=[], facts=facts, escalation=Escalation(), language="en", documents={},
                             ranker=functools.partial(rank_units, WordEmbedder()),
                             part_pages={parts[1]: [(pickup, PICKUP)]})
    assert draft.reply.startswith("Order #4306") and "10 a.m. - 4 p.m." in draft.reply
    assert [c.doc_id for c in draft.citations] == ["policy-pickup"]


def test_the_question_about_an_order_leaves_out_the_names_of_its_items():
    order = _order("unfulfilled").model_copy(update={"items": ["1 × Google Pixel 7 - Refurbished (128GB)"]})
    question = response.order_question(_turn("and the Pixel I ordered yesterday, when do you send it?", order))
    assert question is not None and "Pixel" not in question and "when do you send it?" in question
