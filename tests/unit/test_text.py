"""Sentence splitting of Markdown passages (what the offline response agent quotes)."""

from core.text import sentences


def test_a_table_reads_as_one_sentence_even_when_its_cells_hold_full_stops():
    passage = ("Intro. Second sentence.\n\n| Code | Terms |\n|---|---|\n"
               "| AUTOMNE10 | 10% off. Expired Oct. 31. Not combinable. |\n| WELCOME15 | 15% off first order |\n\n"
               "After table. Done.")
    assert sentences(passage) == [
        "Intro.", "Second sentence.",
        "AUTOMNE10: 10% off. Expired Oct. 31. Not combinable; WELCOME15: 15% off first order.",
        "After table.", "Done.",
    ]


def test_headings_and_list_items_are_sentences_of_their_own():
    assert sentences("## Returns\n- Unopened items: 30 days.\n- Gift cards: final sale") == [
        "## Returns", "Unopened items: 30 days.", "Gift cards: final sale"]


def test_french_elisions_are_not_part_of_the_word():
    from core.text import tokens
    assert tokens("Avec l'Autoship, c'est quoi?") == ["avec", "autoship", "est", "quoi"]
    assert tokens("Heures d’ouverture jusqu'à jeudi; qu'il n'y a") == [
        "heures", "ouverture", "a", "jeudi", "il", "y", "a"]
    # English contractions and possessives, and words that only look elided, are left alone
    assert tokens("Don't ship the customer's order aujourd'hui") == [
        "don't", "ship", "the", "customer's", "order", "aujourd'hui"]


def test_a_table_is_flagged_among_the_sentence_blocks():
    from core.text import sentence_blocks
    assert sentence_blocks("## Hours\n| Day | Hours |\n|---|---|\n| Thursday | 10 – 20 |\n\nClosed on holidays.") == [
        ("## Hours", False), ("Thursday: 10 – 20.", True), ("Closed on holidays.", False)]
