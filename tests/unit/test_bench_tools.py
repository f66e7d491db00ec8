"""The load bench's message order and its CPU-by-stack sampler."""

from __future__ import annotations

import json
import statistics
import threading
import time

from tests.bench import stack_sampler
from tests.bench.load import mark_level, message_pool


def test_every_stretch_of_the_message_pool_has_the_same_mix():
    pool = message_pool()
    assert pool == message_pool() and len(pool) == len(set(pool)) > 2000  # one fixed order, each message once
    means = [statistics.mean(len(t) for t in pool[start:start + 500]) for start in range(0, 2500, 500)]
    # In the files' order the stretch from ~2,000 on is about twice as long as the first ones.
    assert max(means) < 1.2 * min(means)


def _busy_for(cpu_seconds: float) -> None:
    started = time.thread_time()
    while time.thread_time() - started < cpu_seconds:
        sum(i * i for i in range(1000))


def test_the_sampler_gives_a_threads_cpu_to_its_stack_under_the_level_measured(tmp_path):
    sampler = stack_sampler.Sampler(tmp_path, 0.005)
    threading.Thread(target=sampler.run, name="stack-sampler", daemon=True).start()
    mark_level(tmp_path, "this-10")
    time.sleep(0.4)  # the sampler reads the label every 0.2 s
    worker = threading.Thread(target=_busy_for, args=(0.5,), name="function-worker_3")
    worker.start()
    worker.join()
    mark_level(tmp_path, "idle")
    mark_level(tmp_path, "this-10", turns=4)
    out = sampler.out
    deadline = time.monotonic() + 10
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    sampler.stopped.set()
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["label"] for row in rows] == ["this-10"]
    busy = sum(seconds for key, seconds in rows[0]["cpu"].items()
               if key.startswith("function-worker|") and "_busy_for" in key)
    assert 0.1 <= busy <= 0.7  # (a sample the busy host delays loses the CPU since the last one)
    assert json.loads((tmp_path / "turns.json").read_text()) == {"this-10": 4}
    assert (tmp_path / "label").read_text() == "idle"
