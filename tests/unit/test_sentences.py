"""Sentence boundaries of shop text: abbreviations of English, French and Spanish and asides in brackets do not end a
sentence; a full stop before a capital does."""

from __future__ import annotations

from core.rag.answer_units import split_units
from core.rag.sentences import split_sentences


def test_a_full_stop_before_a_capital_ends_a_sentence():
    assert split_sentences("We pack by hand. Orders leave in 2 days! Questions? Write to us.") == [
        "We pack by hand.", "Orders leave in 2 days!", "Questions?", "Write to us."]


def test_abbreviations_of_each_language_do_not_end_a_sentence():
    assert split_sentences("Enviamos a EE. UU. y a Canadá. Te avisamos por correo.") == [
        "Enviamos a EE. UU. y a Canadá.", "Te avisamos por correo."]
    assert split_sentences('Maple & Co. ("we") is a family business. We ship from Quebec.') == [
        'Maple & Co. ("we") is a family business.', "We ship from Quebec."]
    assert split_sentences("Voir p. ex. la page des retours. M. Tremblay vous répond.") == [
        "Voir p. ex. la page des retours.", "M. Tremblay vous répond."]


def test_a_sentence_inside_brackets_stays_in_its_aside():
    text = "Opened jars are final sale (a jar that irritated your skin is covered. See the guarantee.) Write to us."
    assert split_sentences(text) == [
        "Opened jars are final sale (a jar that irritated your skin is covered. See the guarantee.)", "Write to us."]


def test_a_short_sentence_or_an_aside_goes_with_the_sentence_before_it():
    page = """# Pickup

- Choose "Studio pickup" at checkout. It's free.
- Opened balms: final sale. *(A balm that irritated your skin is covered by our guarantee. See that page.)*
- We hold orders for 14 days.
"""
    assert [u.text for u in split_units(page)] == [
        'Choose "Studio pickup" at checkout. It\'s free.',
        "Opened balms: final sale. *(A balm that irritated your skin is covered by our guarantee. See that page.)*",
        "We hold orders for 14 days.",
    ]


def test_a_bold_run_in_label_goes_with_the_sentence_it_names():
    page = """# Privacy policy

**How long we keep it.** Order records are kept for 7 years. Chat transcripts are deleted after 1 year.
"""
    assert [u.text for u in split_units(page)] == [
        "How long we keep it. Order records are kept for 7 years.", "Chat transcripts are deleted after 1 year."]


def test_threads_splitting_at_once_each_get_their_own_sentences():
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"Item {i} ships from Quebec. It costs {i} dollars. Ask Mr. Roy." for i in range(40)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(split_sentences, texts))
    assert results == [[f"Item {i} ships from Quebec.", f"It costs {i} dollars.", "Ask Mr. Roy."] for i in range(40)]
