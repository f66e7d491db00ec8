"""Answer selection: a page's units (sentences, table rows with their headers, FAQ questions with their answers), the
learned scorer that picks the ones answering a question (also across languages), and the answer model that decides
whether a page answers at all."""

from __future__ import annotations

import pytest

from core.agents import answer_scorer
from core.agents.answer_units import units
from core.agents.response import answer_text

SHIPPING = """# Shipping

We ship from Austin, Texas. All prices are in US dollars.

## Rates

| Destination | Service | Rate | Delivery |
|---|---|---|---|
| Contiguous US | USPS Ground | $6.95, free from $75 | 2-5 business days |
| Alaska & Hawaii | USPS Priority | $14.95, free from $150 | 3-6 business days |

## Where we don't ship

We ship within the United States only. We do not ship to Canada, Mexico or overseas.
"""

FAQ = """# FAQ

**Do you take gift cards in store?**
Yes, at the Austin showroom.

**How long is the warranty?**
Every device has a 12-month warranty. Batteries are covered for 6 months only.
"""

RETURNS = """# Returns

You can return any item within 30 days of delivery for a full refund. Refunds go back to the original payment method.
Opened cosmetics cannot be returned, except when they arrived damaged. Return shipping is free with our label.
"""


def test_units_are_sentences_rows_with_headers_and_faq_pairs():
    found = units(SHIPPING)
    rows = [u for u in found if u.kind == "row"]
    assert [u.text for u in rows][1] == ("Alaska & Hawaii: Service: USPS Priority, Rate: $14.95, free from $150, "
                                         "Delivery: 3-6 business days")
    assert rows[0].heading == "Rates" and rows[0].matched_text.startswith("Rates: Contiguous US")
    qa = units(FAQ)
    assert [(u.kind, u.question) for u in qa] == [("qa", "Do you take gift cards in store?"),
                                                  ("qa", "How long is the warranty?")]


@pytest.mark.parametrize(("question", "cross", "expected"), [
    ("How much is shipping to Alaska?", False, "$14.95"),
    ("Combien coûte la livraison en Alaska?", True, "$14.95"),
    ("¿Envían a México?", True, "do not ship to Canada, Mexico"),
])
def test_the_unit_that_answers_is_chosen_also_across_languages(question, cross, expected):
    scored = answer_scorer.score_units(question, SHIPPING, cross_language=cross)
    assert expected in scored.units[int(scored.probabilities.argmax())].text
    assert expected in answer_text(question, scored)


def test_a_short_faq_answer_keeps_its_question():
    scored = answer_scorer.score_units("can I pay with a gift card at your store?", FAQ, cross_language=False)
    assert answer_text("can I pay with a gift card at your store?", scored).startswith(
        "Do you take gift cards in store? Yes")


def test_the_exception_next_to_the_answer_is_kept():
    question = "Can I return an opened lipstick?"
    text = answer_text(question, answer_scorer.score_units(question, RETURNS, cross_language=False))
    assert "cannot be returned, except when they arrived damaged" in text


def test_the_answer_model_tells_an_answering_page_from_an_unrelated_one():
    answering = answer_scorer.answers("Do you ship to Alaska?", SHIPPING, score=0.62, rank=0, cross_language=False)
    unrelated = answer_scorer.answers("Do you repair bicycles?", SHIPPING, score=0.5, rank=0, cross_language=False)
    assert answering >= answer_scorer.ANSWERS > unrelated
