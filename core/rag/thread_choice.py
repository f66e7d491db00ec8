"""How many CPU threads each forward pass of the embedded embedder gets, chosen from measured speed.

Two threads nearly halve a query's embedding time on an idle 2-core machine, but while another process keeps a
core busy the engine's OpenMP barriers wait on a descheduled thread: most calls still take ~15 ms, and one in ten
takes 100-170 ms (measured here; DESIGN.md saw 1.7 s). Averages hide that tail, so any multi-threaded call that
costs more per token than a single-threaded one would (with a margin for noise) sends the embedder back to one
thread for a while: 20 calls, doubling while the next tries also go badly, up to 640. An idle machine never
trips it (two threads cost ~0.6 of one); a busy one pays for a slow call only every few hundred calls.
"""

from __future__ import annotations

import threading


class ThreadChoice:
    def __init__(self, max_threads: int, *, margin: float = 1.25, backoff: int = 20, max_backoff: int = 640,
                 smoothing: float = 0.3):
        self.max_threads = max(1, int(max_threads))
        self._margin = margin
        self._base_backoff = backoff
        self._max_backoff = max_backoff
        self._smoothing = smoothing
        self._single: float | None = None  # ms per token on one thread, smoothed
        self._multi: float | None = None  # the last multi-threaded call's ms per token
        self._backoff = backoff
        self._single_until = 4  # calls before this number run on one thread: the first three measure it
        self._calls = 0
        self._lock = threading.Lock()

    def pick(self) -> int:
        with self._lock:
            self._calls += 1
            if self.max_threads == 1 or self._single is None or self._calls < self._single_until:
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
                self._single_until = self._calls + self._backoff + 1
                self._backoff = min(self._backoff * 2, self._max_backoff)
            else:
                self._backoff = self._base_backoff

    def costs(self) -> dict[int, float | None]:
        with self._lock:
            return {self.max_threads: self._multi, 1: self._single} if self.max_threads > 1 else {1: self._single}
