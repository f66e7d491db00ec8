"""Catalogue matching on terms kept with the catalogue: what it reads of each product (SKUs, title and name words,
variant words) is computed once per catalogue and gives the same ranking as reading the products for every
message."""

from __future__ import annotations

from core.integrations.imported_shop import ImportedShop, catalog_idf, product_terms, rank_products
from core.stores.memory_store import MemoryDocumentStore
from tests.unit.test_stock_questions import CATALOGUE

MESSAGES = [
    "Do you still have the powerpuck in stock?",
    "Do you have the wool felt cat cave in mustard?",
    "Is S3-1 available?",
    "combien coûte le chargeur mural 20W?",
    "do you sell replacement filters for the fountain",
    "What is your return policy?",
    "",
    "le litière de tofu thé vert",
]


def test_terms_are_what_matching_reads_of_a_product():
    terms = product_terms(CATALOGUE[5])  # "Wool Felt Cat Cave", variants Grey and Mustard
    assert terms.options == {"grey", "mustard"} and terms.skus == ("s6-0", "s6-1")
    assert "wool" in terms.title and terms.head == terms.title
    long_title = product_terms(CATALOGUE[6])  # "Grain-Free Cat Food — Duck & Pumpkin": its name is before the dash
    assert "duck" in long_title.title and "duck" not in long_title.head
    assert [words for words, _, _ in long_title.names] == [long_title.title, long_title.head]
    assert [words for words, _, _ in terms.names] == [terms.title]  # one name when the title is the name
    assert long_title.named_by({"duc"}) == [long_title.title] and long_title.named_by({"zzz"}) == []


def test_ranking_on_kept_terms_equals_ranking_on_the_products():
    idf = catalog_idf(CATALOGUE)
    terms = [product_terms(p) for p in CATALOGUE]
    for message in MESSAGES:
        assert rank_products(CATALOGUE, idf, message, terms=terms) == rank_products(CATALOGUE, idf, message)
    named = {message: [p["title"] for p, _ in rank_products(CATALOGUE, idf, message, terms=terms)]
             for message in MESSAGES}
    assert named["Is S3-1 available?"] == ["Petit Volt 20W USB-C Wall Charger"]  # by its SKU
    assert named["Do you still have the powerpuck in stock?"] == ["Petit Volt PowerPuck 10,000 mAh Power Bank"]
    assert named["le litière de tofu thé vert"] == ["Tofu Clumping Cat Litter 7 L"]
    assert named["What is your return policy?"] == []


def test_terms_that_do_not_fit_the_products_are_computed_again():
    idf = catalog_idf(CATALOGUE)
    stale = [product_terms(p) for p in CATALOGUE[:3]]
    assert rank_products(CATALOGUE, idf, MESSAGES[1], terms=stale) == rank_products(CATALOGUE, idf, MESSAGES[1])


def test_a_shared_catalogue_keeps_its_products_terms():
    store = MemoryDocumentStore()
    for product in CATALOGUE:
        store.put("t1", "products", str(product["id"]), product)
    shop = ImportedShop(store)
    found = shop.match_products("t1", MESSAGES[0], max_staleness=60)
    assert [p["title"] for p, _ in found] == [p["title"] for p, _ in rank_products(CATALOGUE, catalog_idf(CATALOGUE),
                                                                                  MESSAGES[0])]
    assert found[0][0]["title"] == "Petit Volt PowerPuck 10,000 mAh Power Bank"


HOPS_AND_TUNERS = [
    {"id": 1, "handle": "hops", "title": "Pellet Hops",
     "variants": [{"title": f"{hop} / {size}"} for hop in ("Citra", "Mosaic", "Cascade")
                  for size in ("28 g", "454 g")]},
    {"id": 2, "handle": "kit", "title": "All-Grain Recipe Kit",
     "variants": [{"title": f"{style} / 23 L"} for style in ("Stout", "Saison", "Black IPA")]},
    {"id": 3, "handle": "tuner", "title": "Cheville CT-2 Clip-On Tuner",
     "variants": [{"title": "Black"}, {"title": "White"}]},
    {"id": 4, "handle": "capo", "title": "Cheville Trigger Capo",
     "variants": [{"title": "Black"}, {"title": "Silver"}]},
    {"id": 5, "handle": "notebook-a5", "title": "Field Notebook A5", "variants": [{"title": "Dot grid"}]},
    {"id": 6, "handle": "sketchbook-a5", "title": "Sketchbook A5", "variants": [{"title": "Plain"}]},
]


def _named(message: str) -> list[str]:
    return [p["title"] for p, _ in rank_products(HOPS_AND_TUNERS, catalog_idf(HOPS_AND_TUNERS), message)]


def test_a_model_code_names_its_product_however_it_is_written():
    assert _named("avez-vous l'accordeur CT-2 en blanc?") == ["Cheville CT-2 Clip-On Tuner"]
    assert _named("the ct2 in white, in stock?") == ["Cheville CT-2 Clip-On Tuner"]
    assert _named("is the CT 3 out yet?") == []


def test_a_code_several_products_write_names_none_of_them_alone():
    assert _named("do you have anything in A5?") == []


def test_a_variant_no_other_product_has_names_its_product_in_a_stock_question():
    assert _named("Do you have Citra in the 1 lb bag?") == ["Pellet Hops"]
    assert _named("Tell me about Citra") == []  # not a stock or price question
    assert _named("do you have anything in black?") == []  # two products' colour
