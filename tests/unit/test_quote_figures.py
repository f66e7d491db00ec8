"""The delays and dates of a quotation in another language, written again in the customer's language after it."""

from __future__ import annotations

import functools

import pytest

from core.agents import response
from core.agents.quote_figures import delays_in, figures_gloss
from core.models import Citation, Escalation, InputVerdict, IntentResult, ShopFacts
from core.rag.answer_units import rank_units
from tests.unit.test_answer_units import WordEmbedder

REFUNDS = """# Refunds

Once your return reaches us, we check it and issue the refund within 3 business days.
Your bank then takes 5–10 business days to show it.
"""


@pytest.mark.parametrize(("text", "language", "gloss"), [
    ("We refund within 3 business days; your bank takes 5–10 business days.", "fr",
     "3 jours ouvrables; 5 à 10 jours ouvrables"),
    ("We refund within 3 business days; your bank takes 5–10 business days.", "es",
     "3 días hábiles; 5 a 10 días hábiles"),
    ("A 60-day guarantee; custom orders take 2 to 6 weeks.", "fr", "60 jours; 2 à 6 semaines"),
    ("Ships Mon Nov 23 after roasting.", "es", "lunes 23 de noviembre"),
    ("Comptez de 7 à 14 jours ouvrables.", "es", "7 a 14 días hábiles"),
    ("Open 24-7. Flat rate $24.95.", "fr", ""),  # no delay, no date
])
def test_a_quotation_s_delays_and_dates_are_written_the_customer_s_way(text, language, gloss):
    source = "fr" if text.startswith("Comptez") else "en"
    assert figures_gloss(text, source, language) == gloss


def test_nothing_is_written_again_in_the_quotation_s_own_language():
    assert figures_gloss("Within 3 business days.", "en", "en") == ""


def test_a_range_reads_only_when_it_rises():
    assert delays_in("2-3 days") == [(2, 3, "day", False)]
    assert delays_in("1 day") == [(1, None, "day", False)]


def test_a_quoted_policy_carries_its_delays_in_the_customer_s_language():
    citation = Citation(doc_id="policy-refunds", title="Refunds", score=0.9, passage=REFUNDS, lang="en")
    draft = response.compose("Combien de temps pour le remboursement? 3 business days?", verdict=InputVerdict(),
                             intent=IntentResult(label="returns_refunds", confidence=0.9, language="fr"),
                             citations=[citation], facts=ShopFacts(), escalation=Escalation(), language="fr",
                             documents={"policy-refunds": REFUNDS},
                             ranker=functools.partial(rank_units, WordEmbedder()))
    assert "Voici ce qu'indique notre page « Refunds » (en anglais)" in draft.reply
    assert "(3 jours ouvrables" in draft.reply
