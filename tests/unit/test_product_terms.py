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
