"""Micro-batching of query embeddings: the texts that concurrent turns ask for while a forward pass runs are
embedded together in the next pass, one engine call for the lot instead of one each.

Every pass runs on the embedder's one forward thread (an executor with one worker). A caller's text joins the
pending list and, if no drain is scheduled, schedules one on that thread; the drain takes up to ``max_batch``
pending texts (waiting up to ``window`` seconds for more when the last pass was shared, never when one caller is
alone) and hands each caller the row of its own text. Identical texts in one pass are embedded once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future

import numpy as np


class QueryBatcher:
    def __init__(self, forward: Callable[[list[str]], np.ndarray], executor: Executor, *, max_batch: int = 16,
                 window: float = 0.002):
        self._forward = forward
        self._executor = executor
        self.max_batch = max_batch
        self.window = window
        self._lock = threading.Condition()
        self._pending: list[tuple[str, Future]] = []
        self._scheduled = False
        self._shared = False  # the last pass served more than one caller
        self.passes = 0
        self.texts = 0

    def submit(self, text: str) -> Future:
        """A future of ``text``'s (unnormalised) vector."""
        return self.submit_many([text])[0]

    def submit_many(self, texts: Sequence[str]) -> list[Future]:
        """Futures of the texts' vectors; one caller's texts join the same pass (up to ``max_batch``)."""
        futures: list[Future] = [Future() for _ in texts]
        with self._lock:
            self._pending.extend(zip(texts, futures, strict=True))
            self._lock.notify()
            if not self._scheduled:
                self._scheduled = True
                self._executor.submit(self._drain)
        return futures

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Rows for ``texts``, in order, each from whichever pass embedded it."""
        return np.stack([f.result() for f in self.submit_many(texts)])

    def _take(self) -> list[tuple[str, Future]]:
        with self._lock:
            if self._shared and len(self._pending) < self.max_batch:
                deadline = time.monotonic() + self.window
                while len(self._pending) < self.max_batch and (left := deadline - time.monotonic()) > 0:
                    self._lock.wait(left)
            batch, self._pending = self._pending[:self.max_batch], self._pending[self.max_batch:]
            return batch

    def _drain(self) -> None:
        """Runs on the forward thread: pass after pass until nothing is pending."""
        while True:
            batch = self._take()
            if batch:
                self._run(batch)
            with self._lock:
                if not self._pending:
                    self._scheduled = False
                    return

    def _run(self, batch: list[tuple[str, Future]]) -> None:
        unique = list(dict.fromkeys(text for text, _ in batch))
        self._shared = len(batch) > 1
        try:
            vectors = self._forward(unique)
        except BaseException as exc:  # every caller of this pass gets the error
            for _, future in batch:
                future.set_exception(exc)
            return
        self.passes += 1
        self.texts += len(unique)
        rows = {text: vectors[i] for i, text in enumerate(unique)}
        for text, future in batch:
            future.set_result(rows[text])
