"""Product matching for the intent and knowledge agents may read a catalogue up to its staleness budget old, never
older, and a catalogue whose size changed (a shop just onboarded, a product added) is read again at once. The
products it returns are always read now: a reply never quotes an old price or stock."""

from __future__ import annotations

from core.integrations import imported_shop
from core.integrations.imported_shop import ImportedShop
from core.stores.memory_store import MemoryDocumentStore


def _product(pid: str, title: str) -> dict:
    return {"id": pid, "title": title, "variants": [{"sku": f"SKU-{pid}", "price": "12.00", "inventory_quantity": 3}]}


def _ids(found) -> list[str]:
    return [p["id"] for p, _ in found]


def test_budgeted_reads_share_the_catalogue_until_it_expires_or_changes_size(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(imported_shop.time, "monotonic", lambda: now[0])  # no wall-clock race on a busy machine
    store = MemoryDocumentStore()
    for pid, title in (("1", "Lavender Soap Bar"), ("2", "Cedar Beard Oil"), ("3", "Mango Body Butter")):
        store.put("shop-a", "products", pid, _product(pid, title))
    shop = ImportedShop(store)
    assert _ids(shop.match_products("shop-a", "lavender soap?", max_staleness=0.2)) == ["1"]

    store.put("shop-a", "products", "1", _product("1", "Rosemary Soap Bar"))  # renamed: same catalogue size
    assert _ids(shop.match_products("shop-a", "lavender soap?", max_staleness=0.2)) == ["1"]  # within budget
    assert _ids(shop.match_products("shop-a", "lavender soap?")) == []  # no budget: always the store itself
    now[0] += 0.25
    assert _ids(ImportedShop(store).match_products("shop-a", "lavender soap?", max_staleness=0.2)) == []

    store.put("shop-a", "products", "4", _product("4", "Lavender Candle"))  # a new product: read again at once
    assert _ids(ImportedShop(store).match_products("shop-a", "lavender candle", max_staleness=60)) == ["4"]


def test_budgeted_catalogues_are_per_tenant_and_per_store():
    first, second = MemoryDocumentStore(), MemoryDocumentStore()
    for store, pid in ((first, "1"), (second, "9")):
        store.put("shop-a", "products", pid, _product(pid, "Lavender Soap Bar"))
        store.put("shop-a", "products", f"{pid}0", _product(f"{pid}0", "Cedar Beard Oil"))
        store.put("shop-a", "products", f"{pid}1", _product(f"{pid}1", "Mango Body Butter"))
    second.put("shop-b", "products", "5", _product("5", "Oolong Tea Tin"))
    second.put("shop-b", "products", "6", _product("6", "Jasmine Pearls"))
    second.put("shop-b", "products", "7", _product("7", "Bamboo Whisk"))
    assert _ids(ImportedShop(first).match_products("shop-a", "lavender soap", max_staleness=60)) == ["1"]
    assert _ids(ImportedShop(second).match_products("shop-a", "lavender soap", max_staleness=60)) == ["9"]
    assert _ids(ImportedShop(second).match_products("shop-b", "oolong tea", max_staleness=60)) == ["5"]


def test_a_budgeted_match_returns_the_products_as_they_are_now(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(imported_shop.time, "monotonic", lambda: now[0])
    store = MemoryDocumentStore()
    for pid, title in (("1", "Lavender Soap Bar"), ("2", "Cedar Beard Oil"), ("3", "Mango Body Butter")):
        store.put("shop-c", "products", pid, _product(pid, title))
    shop = ImportedShop(store)
    assert shop.match_products("shop-c", "lavender soap", max_staleness=60)[0][0]["variants"][0]["price"] == "12.00"
    repriced = _product("1", "Lavender Soap Bar")
    repriced["variants"][0].update(price="9.50", inventory_quantity=0)
    store.put("shop-c", "products", "1", repriced)
    (found, _), = shop.match_products("shop-c", "lavender soap", max_staleness=60)  # the catalogue is still cached
    assert found["variants"][0]["price"] == "9.50" and found["variants"][0]["inventory_quantity"] == 0
    store.delete("shop-c", "products", "2")
    store.put("shop-c", "products", "4", _product("4", "Pine Tar Soap"))  # same size: the cached catalogue stays
    assert shop.match_products("shop-c", "cedar beard oil", max_staleness=60) == []  # deleted: never returned


def test_a_budgeted_catalogue_ranks_a_text_once_for_every_caller(monkeypatch):
    store = MemoryDocumentStore()
    for pid, title in (("1", "Lavender Soap Bar"), ("2", "Cedar Beard Oil"), ("3", "Mango Body Butter")):
        store.put("shop-d", "products", pid, _product(pid, title))
    ranked: list[str] = []
    rank = imported_shop.rank_products

    def counting(products, idf, text, limit=3, **kwargs):
        ranked.append(text)
        return rank(products, idf, text, limit, **kwargs)

    monkeypatch.setattr(imported_shop, "rank_products", counting)
    shop = ImportedShop(store)
    for _ in range(2):  # the intent agent, then the shop's facts, on the same message
        assert _ids(shop.match_products("shop-d", "lavender soap?", max_staleness=60)) == ["1"]
    assert _ids(shop.match_products("shop-d", "cedar beard oil", max_staleness=60)) == ["2"]
    assert ranked == ["lavender soap?", "cedar beard oil"]
    assert _ids(shop.match_products("shop-d", "lavender soap?")) == ["1"] and len(ranked) == 3  # no budget: ranked
