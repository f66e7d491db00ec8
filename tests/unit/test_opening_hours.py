"""Questions about when the shop is open are answered by its timetable, not by the sentence that shares their words."""

from __future__ import annotations

import pytest

from core.agents import opening_hours, response
from core.rag.answer_units import Ranked, split_units
from tests.unit.test_answer_units import _sources

VISIT = """# Visit us

Our shop is at 12 Main Street, next to the park, with free parking behind the shop.

- Monday: closed
- Tuesday to Friday: 10:00 am - 6:00 pm
- Saturday and Sunday: 9:00 am - 5:00 pm

Phone orders: call 555-0100, Monday to Friday, 9 a.m. to 4 p.m.
"""

QUESTION = "Are you open tomorrow? I want to swing by the shop on Main Street"


def near_tie_ranker(question, documents, lexical=None):
    """The encoder as the shops' pages show it: every unit of the page about as close to the question (the address
    a little closer than the timetable); the caller's lexical weights decide."""
    similarity = {"Our shop": 0.86, "Monday: c": 0.84, "Phone ord": 0.83}
    ranked = []
    for index, (content, prior) in enumerate(documents):
        for unit in split_units(content):
            close = similarity.get(unit.text[:9], 0.80)
            bonus = lexical(unit, index) if lexical else 0.0
            ranked.append(Ranked(close + prior + bonus, close, index, unit))
    return sorted(ranked, key=lambda r: (-r.score, r.unit.position))


@pytest.mark.parametrize("question", [
    "are you guys open tomorrow?", "open today?", "what time do you close on Saturday?",
    "pis le dimanche c'est fermé?", "c'est quoi vos heures au comptoir?", "êtes-vous ouverts aujourd'hui?",
    "¿a qué hora cierran hoy?", "¿el taller abre los domingos?",
])
def test_a_question_about_when_the_shop_is_open_is_read_as_one(question):
    assert opening_hours.asks_hours(question)


@pytest.mark.parametrize("question", [
    "j'ai ouvert le paquet, je peux le retourner?", "how long are the treats good once the bag is open?",
    "he abierto la caja y falta una pieza", "it arrived within 48 hours, thanks", "can I return opened socks?",
    "la boîte est arrivée ouverte",
])
def test_open_said_of_a_box_or_a_bag_is_no_such_question(question):
    assert not opening_hours.asks_hours(question)


def test_weekdays_are_read_in_the_three_languages():
    assert opening_hours.weekdays("Sunday, dimanche or domingo; jeudi") == {6, 3}


def test_the_timetable_answers_when_the_shop_is_open_though_the_address_shares_the_words():
    picked = response.unit_choice(near_tie_ranker, _sources(VISIT), QUESTION, defer_to_words=False)
    assert picked is not None
    assert picked[1][0].text.startswith("Monday: closed; Tuesday to Friday: 10:00 am - 6:00 pm")


def test_without_the_timetables_weight_the_address_would_answer(monkeypatch):
    # The weight decides: with none, the sentence sharing the question's words is quoted first.
    monkeypatch.setattr(opening_hours, "HOURS_UNIT_WEIGHT", 0.0)
    monkeypatch.setattr(opening_hours, "TIMETABLE_UNIT_WEIGHT", 0.0)
    picked = response.unit_choice(near_tie_ranker, _sources(VISIT), QUESTION, defer_to_words=False)
    assert picked is not None and picked[1][0].text.startswith("Our shop is at 12 Main Street")


def test_a_weeks_timetable_outranks_a_line_giving_a_few_weekdays_and_the_day_asked_counts():
    weight = opening_hours.hours_weight("are you open Thursday?")
    assert weight is not None
    units = {u.text[:12]: u for u in split_units(VISIT)}
    timetable, phone, address = units["Monday: clos"], units["Phone orders"], units["Our shop is "]
    assert weight(timetable) > weight(phone) > weight(address) == 0.0
    assert opening_hours.hours_weight("how do I return an item?") is None
