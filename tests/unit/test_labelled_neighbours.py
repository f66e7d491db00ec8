"""The labelled utterances' vectors: read only among the sub-intents or topics asked for, nearest by meaning first,
and named by what they were built from (the package ships them, a host reads them instead of embedding)."""

from __future__ import annotations

from core.agents import labelled_neighbours
from core.utterances import load_examples


def test_the_vectors_hold_every_train_utterance_with_a_sub_intent():
    stored = labelled_neighbours.load()
    rows = [r for r in load_examples("train") if r.get("sub_intent")]
    assert stored["vectors"].shape[0] == len(rows) == len(stored["sub_intents"]) == len(stored["topics"])
    assert abs(float((stored["vectors"][0] ** 2).sum()) - 1.0) < 1e-3


def test_neighbours_come_only_from_the_sub_intents_asked_for():
    stored = labelled_neighbours.load()
    two = sorted(set(stored["sub_intents"].tolist()))[:2]
    nearest = labelled_neighbours.nearest_sub_intents("where is my parcel?", frozenset(two), 9)
    assert len(nearest) == 9 and set(nearest) <= set(two)


def test_a_topic_names_all_of_its_sub_intents():
    stored = labelled_neighbours.load()
    topic = str(stored["topics"][0])
    own = {str(s) for s, t in zip(stored["sub_intents"], stored["topics"], strict=True) if t == topic}
    nearest = labelled_neighbours.nearest_sub_intents("hello", frozenset({topic}), 50)
    assert set(nearest) <= own


def test_the_file_name_carries_the_fingerprint():
    name = labelled_neighbours.vectors_file()
    assert name.startswith("labelled-vectors-") and name.endswith(".joblib") and len(name) == len(
        "labelled-vectors-") + 16 + len(".joblib")
