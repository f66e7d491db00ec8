"""A group or business order and a frustrated customer whose device stays dead go to a person; numbers that count time,
money, parts or dates do not."""

from __future__ import annotations

import pytest

from core.agents import escalation
from core.models import Entities, InputVerdict, IntentResult
from core.text import fold


@pytest.mark.parametrize("message", [
    "I need 200 small bars for the rooms of my inn",
    "Nous aimerions commander une quarantaine de jeux pour la bibliothèque",
    "On voudrait 15 sacs de couchage pis 6 tentes pour l'été prochain",
    "quiero comprar 25 juegos para mis clases, ¿me pueden dar precio por volumen?",
])
def test_a_group_quantity_is_escalated(message):
    intent = IntentResult(label="product_info", confidence=0.9, language="en")
    assert escalation.decide(intent, InputVerdict(), unanswered_turns=0, message=message) == "bulk_order"


@pytest.mark.parametrize("message", [
    "I want 2 soaps", "ya van 12 dias y nada", "Ma commande 3109 est où?", "order 3106 - i only got one game",
    "is the 2000 pieces puzzle hard?", "can I use my $50 gift card?", "j'ai commandé ça le 12 novembre",
    "bought it on nov 18 for a gift", "the 100 g size please", "ouverts le 24 pis le 25 décembre?",
    "what's the 20 000 mm rating about?",
])
def test_other_numbers_are_no_group_order(message):
    assert not escalation.bulk_quantity(fold(message))


@pytest.mark.parametrize(("message", "bulk"), [
    ("¿llegaría para el 24 dic?", False), ("livré avant le 15 févr.?", False), ("¿llegaría para 24 dic?", False),
    ("Cadeaux de mariage: 120 mini chandelles, vous faites des étiquettes?", True),  # "mariage" is no month
])
def test_a_month_in_any_language_makes_a_number_a_date(message, bulk):
    assert escalation.bulk_quantity(fold(message)) is bulk


def test_an_order_number_is_no_quantity():
    intent = IntentResult(label="product_info", confidence=0.9, language="en",
                          entities=Entities(order_numbers=["1042"]))
    assert escalation.decide(intent, InputVerdict(), unanswered_turns=0, message="1042 items are missing") is None


@pytest.mark.parametrize("message", [
    "The headlamp doesn't turn on at all, I'm leaving on Friday and honestly pretty frustrated",
    "Je suis vraiment frustrée, la lampe ne s'allume plus",
    "Estoy muy frustrado, la lámpara no prende",
])
def test_a_frustrated_customer_with_a_dead_device_reaches_a_person(message):
    intent = IntentResult(label="product_info", confidence=0.9, language="en")
    reason = escalation.decide(intent, InputVerdict(), unanswered_turns=0, message=message)
    assert reason in ("frustrated_customer", "technical_fault")
