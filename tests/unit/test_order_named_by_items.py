"""Which of a signed-in customer's orders a message is about, and which of an order's items a policy question
about it asks after (core.agents.knowledge.named_first, core.agents.response.asked_items)."""

from __future__ import annotations

from core.agents.knowledge import named_first
from core.agents.response import asked_items
from core.models import OrderFacts


def _order(number: int, *titles: str) -> dict:
    return {"order_number": number, "line_items": [{"title": t, "quantity": 1} for t in titles]}


def test_the_order_holding_the_item_the_message_names_comes_first():
    newest = _order(2, "Cork Mat 4 mm", "Mat Towel")
    older = _order(1, "Folding Reformer")
    assert [o["order_number"] for o in named_first([newest, older], "when is my reformer arriving?")] == [1, 2]


def test_the_newest_order_stays_first_when_the_message_names_no_item_of_one_order_only():
    newest, older = _order(2, "Cork Mat 4 mm"), _order(1, "Travel Mat", "Cork Block")
    for message in ("where is my order?", "is my mat on its way?"):
        assert [o["order_number"] for o in named_first([newest, older], message)] == [2, 1]


def test_a_plural_names_the_item():
    newest, older = _order(2, "Strap"), _order(1, "Cork Block")
    assert named_first([newest, older], "where are my blocks?")[0]["order_number"] == 1


def test_a_policy_question_asks_after_the_items_it_names_or_all_of_them():
    order = OrderFacts(order_number="7", status="unfulfilled", items=["1 × Folding Reformer", "2 × Cork Block"])
    assert asked_items(order, "can I send the reformer back?") == ["Folding Reformer"]
    assert asked_items(order, "can I send it back?") == ["Folding Reformer", "Cork Block"]
