"""A record's dates (an order's note in another language) written again in the reply's language."""

from __future__ import annotations

import pytest

from core.agents import response
from core.agents.record_dates import RecordDate, dates_gloss, dates_in, render
from core.models import OrderFacts


@pytest.mark.parametrize(("text", "expected"), [
    ("Ships Mon Nov 23 after roasting.", [RecordDate(0, 23, 11)]),
    ("Placed after the 1 p.m. cut-off on Friday: ships Monday, Nov 23.", [RecordDate(4), RecordDate(0, 23, 11)]),
    ("restock expected Dec 4, 2026, ships separately", [RecordDate(None, 4, 12, 2026)]),
    ("envío estimado la semana del 28 de diciembre 2026", [RecordDate(None, 28, 12, 2026)]),
    ("Expédition prévue d'ici le 7 décembre", [RecordDate(None, 7, 12)]),
    ("We sat down on Sat with 3 boxes; you may come", []),  # abbreviations and "may" alone are no date
])
def test_dates_are_read_in_the_three_languages(text, expected):
    assert dates_in(text) == expected


def test_dates_are_written_as_each_language_writes_them():
    date = RecordDate(1, 24, 11, 2026)
    assert render(date, "en") == "Tuesday, November 24, 2026"
    assert render(date, "fr") == "mardi 24 novembre 2026"
    assert render(date, "es") == "martes 24 de noviembre de 2026"
    assert render(RecordDate(4), "es") == "viernes"


def test_a_gloss_only_for_a_text_in_another_language():
    note = "Bike delivery Tuesday Nov 24 (after Monday roast)."
    assert dates_gloss(note, "es") == "martes 24 de noviembre; lunes"
    assert dates_gloss(note, "fr") == "mardi 24 novembre; lundi"
    assert dates_gloss(note, "en") == ""
    assert dates_gloss("Maceta sobre pedido: envío estimado el 28 de diciembre.", "es") == ""
    assert dates_gloss("Gift - please include the card.", "fr") == ""


def test_an_english_note_in_a_spanish_reply_gives_its_dates_in_spanish():
    order = OrderFacts(order_number="3110", status="unfulfilled", created_at="2026-11-20", items=["2 × Game"],
                       note="Placed after the 1 p.m. ET cut-off on Friday: ships Monday, Nov 23.")
    spanish = response.describe_order(order, "es")
    assert "«Placed after the 1 p.m. ET cut-off on Friday: ships Monday, Nov 23.»" in spanish
    assert spanish.endswith("(viernes; lunes 23 de noviembre)")
    assert "(" not in response.describe_order(order, "en").split("Friday")[-1]  # an English reply: the note alone
