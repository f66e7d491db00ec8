"""The local host's worker processes: their slot, their files and their environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.devhost.workers import WorkerSlot, durable_file, worker_environment


def test_each_worker_process_embeds_on_its_share_of_the_cores(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    assert worker_environment(2, {"EMBEDDING_THREADS": "0"})["EMBEDDING_THREADS"] == "2"
    assert worker_environment(8, {})["EMBEDDING_THREADS"] == "1"  # never below one thread
    assert worker_environment(2, {"EMBEDDING_THREADS": "3"})["EMBEDDING_THREADS"] == "3"  # a chosen count is kept


def test_worker_slots_and_their_durable_files():
    slot = WorkerSlot.parse("1/2", 7)
    assert (slot.index, slot.count, slot.listen_fd, slot.primary) == (1, 2, 7, False)
    assert WorkerSlot.parse("0/2", None).primary
    with pytest.raises(ValueError):
        WorkerSlot.parse("2/2", None)
    assert durable_file(Path("/d"), "Hub", 0) == Path("/d/durable-Hub.sqlite")  # one worker keeps its file
    assert durable_file(Path("/d"), "Hub", 1) == Path("/d/durable-Hub-w1.sqlite")
