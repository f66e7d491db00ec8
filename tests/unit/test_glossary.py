"""French and Spanish product words matched against English catalogues through the retail glossary."""

import json
from pathlib import Path

import pytest

from core.glossary import GLOSSARY_PATH, Glossary, default_glossary
from core.integrations.imported_shop import catalog_idf, rank_products

DEMO = Path(__file__).resolve().parents[2] / "knowledge" / "tenants" / "demo"


def test_the_glossary_file_is_well_formed():
    lines = [line for line in GLOSSARY_PATH.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(lines) > 1000
    for line in lines:
        entry = json.loads(line)
        assert set(entry) == {"en", "fr", "es"}
        assert all(isinstance(v, list) and v and all(isinstance(w, str) and w == w.lower() for w in v)
                   for v in entry.values())


def test_phrases_plurals_and_accents():
    glossary = Glossary([
        {"en": ["lip balm"], "fr": ["baume à lèvres"], "es": ["bálsamo labial"]},
        {"en": ["lip"], "fr": ["lèvre"], "es": ["labio"]},
        {"en": ["candle"], "fr": ["chandelle", "bougie"], "es": ["vela"]},
        {"en": ["soap"], "fr": ["savon"], "es": ["jabón"]},
    ])
    assert glossary.english_words("Avez-vous des BAUMES A LEVRES?") == {"lip", "balm"}  # longest phrase wins
    assert glossary.english_words("vendez-vous des chandelles") == {"candle"}
    assert glossary.english_words("¿tienen jabones?") == {"soap"}
    assert glossary.english_words("¿tienen velas y jabon?") == {"candle", "soap"}
    assert glossary.english_words("¿dónde está mi pedido?") == set()


DEMO_PRODUCTS = json.loads((DEMO / "products.json").read_text(encoding="utf-8"))
DEMO_PRODUCTS = DEMO_PRODUCTS.get("products", DEMO_PRODUCTS) if isinstance(DEMO_PRODUCTS, dict) else DEMO_PRODUCTS


@pytest.mark.parametrize(("message", "expected"), [
    ("Hola, ¿tienen jabón de lavanda?", "Lavender Fields Soap"),
    ("Avez-vous du savon à la lavande?", "Lavender Fields Soap"),
    ("¿Tienen bálsamo labial de menta?", "Peppermint Lip Balm"),
    ("Bomba de baño con pétalos de rosa", "Rose Petal Bath Bomb"),
    ("Aceite facial de rosa mosqueta", "Rosehip Facial Oil"),
    ("c'est combien le beurre corporel à la mangue?", "Whipped Mango Body Butter"),
    ("¿Tienen desodorante de cedro y salvia?", "Cedar & Sage Natural Deodorant"),
    ("Un porte-savon en bois", "Cedar Soap Dish"),
])
def test_french_and_spanish_questions_find_english_products(message, expected):
    matches = rank_products(DEMO_PRODUCTS, catalog_idf(DEMO_PRODUCTS), message)
    assert matches and matches[0][0]["title"] == expected


@pytest.mark.parametrize("message", [
    "¿Tienen velas aromáticas?", "Vendez-vous des chandelles?", "¿Tienen crema solar?", "¿Cuánto cuesta el envío?",
    "Où est ma commande 1042?", "Mi paquete llegó dañado", "Est-ce que je peux payer avec Interac?",
    "¿Tienen tarjetas de regalo?",
])
def test_products_the_shop_does_not_sell_or_other_topics_match_nothing(message):
    assert rank_products(DEMO_PRODUCTS, catalog_idf(DEMO_PRODUCTS), message) == []


def test_english_messages_are_not_expanded():
    # "robe" is French for dress; an English customer asking for a robe must not be offered a dress.
    products = [{"title": t} for t in ("Summer Dress", "Waffle Bath Robe", "Wool Socks", "Silk Scarf", "Cotton Tee",
                                       "Denim Jacket")]
    idf = catalog_idf(products)
    assert all(p["title"] != "Summer Dress" for p, _ in rank_products(products, idf, "Do you have a robe?"))
    assert [p["title"] for p, _ in rank_products(products, idf, "Avez-vous une robe?")] == ["Summer Dress"]


def test_a_long_title_is_matched_by_its_name_and_catalogue_words_are_no_cognates():
    products = [{"title": t} for t in (
        "Carnet Boréal A5 — couverture lin", "Cartes du ciel boréal — Mathieu Sirois", "Carte-cadeau L'Encre Boréale",
        "Les Hivers de Limoilou — Anne-Sophie Bérubé", "Encre Pilot Iroshizuku 50 ml",
        "Marque-pages en cuir (lot de 2)")]
    idf = catalog_idf(products)
    assert [p["title"] for p, _ in rank_products(products, idf, "Avez-vous le carnet boréal en sapin pointillé?")] \
        == ["Carnet Boréal A5 — couverture lin"]
    assert [p["title"] for p, _ in rank_products(products, idf, "vous avez les hivers de limoilou?")] \
        == ["Les Hivers de Limoilou — Anne-Sophie Bérubé"]
    assert [p["title"] for p, _ in rank_products(products, idf, "une carte-cadeau de 50 $")] \
        == ["Carte-cadeau L'Encre Boréale"]


def test_a_question_finds_the_words_of_any_other_language():
    glossary = default_glossary()
    assert {"tarjeta", "regalo"} <= glossary.words_in("est-ce que les cartes-cadeaux expirent?", "es", "fr")
    assert {"carte", "cadeau"} <= glossary.words_in("do gift cards expire?", "fr", "en")
    # (a phrase is read in the question's own language: the English "sell" is not the French "selle", a saddle)
    assert "saddle" in glossary.english_words("do you sell soap?")
    assert glossary.words_in("do you sell soap?", "fr", "en") == {"savon"}


def test_a_whole_phrase_translates_to_the_usual_word_of_the_language():
    glossary = default_glossary()
    assert glossary.translation("Black", "fr") == "noir"
    assert glossary.translation("negro", "en") == "black"
    assert glossary.translation("Black Walnut Board", "es") is None  # not one entry
