import json

import pytest

from core.rag.documents import DocumentError, parse_file, product_document
from core.stores.memory_store import MemoryDocumentStore
from core.tenants import TenantImportError, get_tenant, import_tenant


def test_markdown_front_matter_and_heading(tmp_path):
    path = tmp_path / "returns.fr-CA.md"
    path.write_text("---\nid: returns.fr-CA\ncategory: policy\nlang: fr-CA\ntranslation_of: returns\n---\n"
                    "# Retours\n\nVous avez 30 jours.", encoding="utf-8")
    (doc,) = parse_file(path)
    assert (doc.id, doc.title, doc.category, doc.lang, doc.translation_of) == (
        "returns.fr-CA", "Retours", "policy", "fr-CA", "returns")


def test_a_translation_repeating_its_originals_id_is_named_after_its_file(tmp_path):
    path = tmp_path / "returns.es.md"
    path.write_text("---\nid: returns\nlang: es\ntranslation_of: returns\n---\nTiene 30 días.", encoding="utf-8")
    (doc,) = parse_file(path)
    assert (doc.id, doc.translation_of, doc.lang) == ("returns.es", "returns", "es")
    renamed = tmp_path / "returns.md.txt"
    renamed.write_text("---\nid: returns\nlang: es\ntranslation_of: returns\n---\nTiene 30 días.", encoding="utf-8")
    assert parse_file(renamed)[0].id == "returns.md"


def test_a_title_with_a_french_colon_is_read_whole_and_broken_yaml_is_still_refused(tmp_path):
    page = tmp_path / "article-holidays.fr-CA.md"
    page.write_text("---\nid: article-holidays\ntitle: Les Fêtes 2026 : dates limites, Vendredi fou\nlang: fr-CA\n"
                    "translation_of: article-holidays\n---\n# Les Fêtes\n\nOn ferme le 24.\n", encoding="utf-8")
    (doc,) = parse_file(page)
    assert doc.title == "Les Fêtes 2026 : dates limites, Vendredi fou" and doc.lang == "fr-CA"
    broken = tmp_path / "bad.md"
    broken.write_text("---\ntitle: [unclosed\n---\n# X\n\nbody\n", encoding="utf-8")
    with pytest.raises(DocumentError, match="bad.md"):
        parse_file(broken)


def test_markdown_without_front_matter_uses_file_name(tmp_path):
    path = tmp_path / "gift-wrap.md"
    path.write_text("We wrap gifts for free.", encoding="utf-8")
    (doc,) = parse_file(path)
    assert doc.id == "gift-wrap" and doc.title == "Gift wrap" and doc.lang == "en"


def test_json_list_under_documents(tmp_path):
    path = tmp_path / "faq.json"
    path.write_text(json.dumps({"documents": [{"id": "q1", "title": "Hours", "body": "9 to 5"},
                                              {"title": "Parking", "content": "Free"}]}))
    docs = parse_file(path)
    assert [d.id for d in docs] == ["q1", "faq-1"] and docs[1].content == "Free"


def test_bad_json_names_the_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{nope")
    with pytest.raises(DocumentError, match="broken.json"):
        parse_file(path)


def test_product_document_lists_variants_and_stock():
    doc = product_document({"id": 1, "title": "Rose Soap", "handle": "rose-soap", "body_html": "<p>Rose <b>oil</b></p>",
                            "variants": [{"title": "Bar", "price": "9.00", "sku": "R-1", "inventory_quantity": 0,
                                          "inventory_management": "shopify"}]},
                           "CAD")
    assert doc.id == "product-rose-soap" and "9.00 CAD, out of stock" in doc.content and "<b>" not in doc.content


@pytest.mark.parametrize(("variant", "expected"), [
    ({"inventory_management": "shopify", "inventory_quantity": 3}, "in stock"),
    ({"inventory_management": "shopify", "inventory_quantity": 0}, "out of stock"),
    ({"inventory_management": "shopify", "inventory_quantity": -2, "inventory_policy": "continue"}, "backorder"),
    ({"inventory_management": None, "inventory_quantity": 0}, "available"),
])
def test_variant_availability_follows_shopify_semantics(variant, expected):
    from core.rag.documents import variant_availability

    assert variant_availability(variant) == expected


def test_import_tenant_from_folder_and_reimport_removes_stale(tmp_path):
    (tmp_path / "tenant.json").write_text(json.dumps({"name": "Bike Shop", "currency": "EUR"}))
    (tmp_path / "README.md").write_text("not a KB document")
    (tmp_path / "hours.md").write_text("# Hours\nOpen 9-17.")
    (tmp_path / "old.md").write_text("# Old\nGone soon.")
    (tmp_path / "orders.json").write_text(json.dumps({"orders": [{"id": 5, "order_number": 77, "name": "#77"}]}))
    store = MemoryDocumentStore()
    report = import_tenant("bikes", tmp_path, store)
    assert (report.documents, report.orders) == (2, 1)
    assert get_tenant("bikes", store).currency == "EUR"
    assert store.get("bikes", "orders", "77") is not None
    (tmp_path / "old.md").unlink()
    assert import_tenant("bikes", tmp_path, store).removed == 1
    assert store.get("bikes", "kb", "old") is None


def test_import_rejects_bad_tenant_id_and_empty_folder(tmp_path):
    with pytest.raises(TenantImportError, match="tenant id"):
        import_tenant("Bad Id!", tmp_path, MemoryDocumentStore())
    with pytest.raises(TenantImportError, match="no knowledge documents"):
        import_tenant("empty", tmp_path, MemoryDocumentStore())


def test_import_rejects_non_shopify_export(tmp_path):
    (tmp_path / "orders.json").write_text(json.dumps([{"id": 1}]))
    with pytest.raises(TenantImportError, match="orders.json"):
        import_tenant("x1", tmp_path, MemoryDocumentStore())
