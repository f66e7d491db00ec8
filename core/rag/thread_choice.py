"""How many CPU threads each forward pass of the embedded embedder gets, chosen from measured speed.

Two threads nearly halve a query's embedding time on an idle 2-core machine, but while another process keeps a
core busy the engine's OpenMP barriers wait on a descheduled thread: most calls still take ~15 ms, and one in ten
takes 100-170 ms (``make bench-rag``, its run with one core kept busy). Averages hide that tail, so any
multi-threaded call that costs more per token than a single-threaded one would (with a margin for noise) sends the
embedder back to one thread for a while: 1 s, doubling while the next tries also go badly, up to 30 s. An idle
machine never trips it (two threads cost ~0.6 of one); a busy one pays for one slow call every 30 s, and gets both
cores back at most 30 s after the neighbour leaves, however few questions arrive meanwhile.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class ThreadChoice:
    def __init__(self, max_threads: int, *, margin: float = 1.25, backoff: float = 1.0, max_backoff: float = 30.0,
                 smoothing: float = 0.3, clock: Callable[[], float] = time.monotonic):
        self.max_threads = max(1, int(max_threads))
        self._margin = margin
        self._base_backoff = backoff
        self._max_backoff = max_backoff
        self._smoothing = smoothing
        self._clock = clock
        self._single: float | None = None  # ms per token on one thread, smoothed
        self._multi: float | None = None  # the last multi-threaded call's ms per token
        self._backoff = backoff
        self._single_until = 0.0  # clock time before which calls run on one thread
        self._calls = 0
        self._lock = threading.Lock()

    def pick(self) -> int:
        with self._lock:
            self._calls += 1
            # The first three calls measure one thread, the yardstick for the others.
            if self.max_threads == 1 or self._calls <= 3 or self._single is None \
                    or self._clock() < self._single_until:
                return 1
            return self.max_threads

    def record(self, threads: int, seconds: float, size: int) -> None:
        """One call with ``threads`` took ``seconds`` for ``size`` tokens of input."""
        if size <= 0:
            return
        cost = seconds * 1000.0 / size
        with self._lock:
            if threads == 1:
                previous = self._single
                self._single = cost if previous is None else previous + self._smoothing * (cost - previous)
                return
            self._multi = cost
            if self._single is not None and cost > self._single * self._margin:
                self._single_until = self._clock() + self._backoff
                self._backoff = min(self._backoff * 2, self._max_backoff)
            else:
                self._backoff = self._base_backoff

    def costs(self) -> dict[int, float | None]:
        with self._lock:
            return {self.max_threads: self._multi, 1: self._single} if self.max_threads > 1 else {1: self._single}
