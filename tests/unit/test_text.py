"""Accent folding and tokens, and sentence splitting of Markdown passages (what the offline response agent quotes)."""

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


def _fold_by_definition(text: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def test_folding_lowercases_and_drops_every_combining_mark():
    from core.text import fold

    assert fold("Où est ma COMMANDE? ¿Cuándo llegará? Ça coûte combien") == \
        "ou est ma commande? ¿cuando llegara? ca coute combien"
    assert fold("Plain ASCII, Order #4418!") == "plain ascii, order #4418!"
    assert fold("\u212a") == "k"  # the Kelvin sign lowercases to an ASCII letter
    assert fold("e\u0301te\u0300 n\u0303") == "ete n"  # marks already apart from their letters
    assert fold("ﬁ ½ Å ß") == "fi 1⁄2 a ß"  # compatibility forms decompose; letters without marks stay


def test_folding_equals_its_definition_on_every_character_and_on_mixed_text():
    import random

    from core.text import fold

    for code in range(0x3400):
        if not 0xD800 <= code < 0xE000:
            assert fold(chr(code)) == _fold_by_definition(chr(code)), hex(code)
    rnd = random.Random(7)
    alphabet = [chr(c) for c in range(0x20, 0x2100)] + list("aeé'’ ")
    for _ in range(2000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 24)))
        assert fold(text) == _fold_by_definition(text), repr(text)
