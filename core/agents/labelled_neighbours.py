"""The labelled customer utterances (``knowledge/intents``, train split) nearest a message by meaning, read by their
sub-intent: whether a money question is about the customer's own money, whether an order question asks when it
arrives, whether a product question asks about the product itself...

The utterances' unit vectors are built once with the models (``make setup`` / ``make package``) and shipped in the
package's artifacts under a fingerprint of the utterances and of the embedding engine, so a new host reads them
instead of embedding a few thousand utterances on its first question.

    python -m core.agents.labelled_neighbours train
"""

from __future__ import annotations

import functools

from core.agents.intent import SentenceEmbeddings, embedding_engine_id
from core.agents.model_cache import TrainedModel, data_fingerprint, ship
from core.utterances import INTENTS_DIR, load_examples

VECTORS_VERSION = "labelled-1"


def _fingerprint() -> str:
    return data_fingerprint(f"{VECTORS_VERSION}\x00{embedding_engine_id()}", sorted(INTENTS_DIR.rglob("*.jsonl")))


def vectors_file() -> str:
    """The vectors' file name (shipped in the package's artifacts, or kept in DATA_DIR)."""
    return f"labelled-vectors-{_fingerprint()}.joblib"


def build() -> dict:
    """{"vectors": (n, d) float32 unit rows, "sub_intents": (n,), "topics": (n,)} of every train utterance that
    has a sub-intent."""
    import numpy as np

    rows = [r for r in load_examples("train") if r.get("sub_intent")]
    vectors = np.asarray(SentenceEmbeddings().transform([r["text"] for r in rows]), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9
    return {"vectors": vectors, "sub_intents": np.array([r["sub_intent"] for r in rows]),
            "topics": np.array([r.get("label", "") for r in rows])}


_VECTORS = TrainedModel(vectors_file, build)


def load() -> dict:
    return _VECTORS.get()


@functools.lru_cache(maxsize=16)
def _among(among: frozenset[str]):
    """(unit vectors, sub-intents) of the utterances whose sub-intent, or their topic, is in ``among``."""
    import numpy as np

    stored = load()
    keys = np.array(sorted(among))
    keep = np.isin(stored["sub_intents"], keys) | np.isin(stored["topics"], keys)
    return np.ascontiguousarray(stored["vectors"][keep]), stored["sub_intents"][keep]


def nearest_sub_intents(text: str, among: frozenset[str], neighbours: int) -> list[str]:
    """The sub-intents of the ``neighbours`` labelled utterances nearest ``text`` by meaning, among those whose
    sub-intent, or their topic, is in ``among``."""
    import numpy as np

    vectors, labels = _among(among)
    query = np.asarray(SentenceEmbeddings().transform([text]), dtype=np.float32)[0]
    query /= np.linalg.norm(query) + 1e-9
    return [str(labels[i]) for i in np.argsort(-(vectors @ query))[:neighbours]]


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m core.agents.labelled_neighbours")
    parser.add_argument("command", choices=["train"])
    parser.parse_args(argv)
    load()
    shipped = ship(vectors_file())
    print(f"labelled utterance vectors ready: {shipped.relative_to(shipped.parent.parent)}")
    return 0


if __name__ == "__main__":
    from core.agents.labelled_neighbours import main as _main

    raise SystemExit(_main())
