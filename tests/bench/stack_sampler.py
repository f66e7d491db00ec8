"""Where a process's CPU goes, by thread and stack: a sampler thread started in every Python process of a host.

Every ``STACK_SAMPLES_INTERVAL`` seconds (5 ms) the sampler reads each Python thread's CPU clock and gives the CPU
that thread spent since the previous sample to the stack it is in now (innermost frames last); threads Python does
not know (the embedding engine's OpenMP workers) are read from ``/proc`` and counted by name. The figures are
gathered under the label written in ``$STACK_SAMPLES_DIR/label`` (``tests.bench.load --sample-stacks`` writes the
measured level there and ``idle`` between levels) and written to ``$STACK_SAMPLES_DIR/<pid>.jsonl`` whenever the
label changes. ``python -m tests.bench.stack_sampler DIR`` sums them per label: by thread, and the frames that
hold the most CPU, in ms a turn.

Started by ``sitecustomize`` when ``STACK_SAMPLES_DIR`` is set (the load bench puts one on the hosts' path).
"""

from __future__ import annotations

import collections
import gc
import json
import os
import sys
import threading
import time
from pathlib import Path

FRAMES = 40


def _group(name: str) -> str:
    for prefix in ("function-worker", "durable-orchestrator", "e5-forward", "events-", "ThreadPoolExecutor",
                   "asyncio"):
        if name.startswith(prefix):
            return prefix.rstrip("-_")
    return name


def _frame_name(frame) -> str:
    code = frame.f_code
    path = code.co_filename
    for marker in ("/site-packages/", "/core/", "/blueprints/", "/tests/", "/lib/python3"):
        at = path.rfind(marker)
        if at >= 0:
            path = path[at + len(marker):] if marker in ("/site-packages/", "/lib/python3") else path[at + 1:]
            break
    return f"{path}:{code.co_name}"


def _stack(frame) -> str:
    names = []
    while frame is not None and len(names) < FRAMES:
        names.append(_frame_name(frame))
        frame = frame.f_back
    return ";".join(reversed(names))


class Sampler:
    def __init__(self, folder: Path, interval: float):
        self.folder, self.interval = folder, interval
        self.label = "idle"
        self.cpu: collections.Counter = collections.Counter()
        self.last: dict[int, float] = {}
        self.native_last: dict[int, float] = {}
        self.ticks = os.sysconf("SC_CLK_TCK")
        self.out = folder / f"{os.getpid()}.jsonl"
        self.stopped = threading.Event()
        self.gc: collections.Counter = collections.Counter()  # the collector's CPU, inside the threads' figures
        self._gc_started: dict[int, float] = {}
        gc.callbacks.append(self._collected)

    def _collected(self, phase: str, info: dict) -> None:
        ident = threading.get_ident()
        if phase == "start":
            self._gc_started[ident] = time.thread_time()
        elif ident in self._gc_started and self.label != "idle":
            self.gc[f"generation {info['generation']}"] += time.thread_time() - self._gc_started.pop(ident)
            self.gc[f"generation {info['generation']} passes"] += 1

    def run(self) -> None:
        me = threading.get_ident()
        next_label = 0.0
        next_native = 0.0
        while not self.stopped.wait(self.interval):
            now = time.monotonic()
            if now >= next_label:
                next_label = now + 0.2
                self._check_label()
            frames = sys._current_frames()
            known = set()
            for thread in threading.enumerate():
                ident = thread.ident
                if ident is None:
                    continue
                if thread.native_id is not None:
                    known.add(thread.native_id)
                try:
                    cpu = time.clock_gettime(time.pthread_getcpuclockid(ident))
                except OSError:
                    continue
                spent = cpu - self.last.get(ident, cpu)
                self.last[ident] = cpu
                if spent <= 0 or self.label == "idle":
                    continue
                if ident == me:
                    self.cpu["sampler"] += spent
                    continue
                frame = frames.get(ident)
                self.cpu[f"{_group(thread.name)}|{_stack(frame) if frame is not None else '?'}"] += spent
            if now >= next_native:
                next_native = now + 0.1
                self._native(known)

    def _native(self, known: set[int]) -> None:
        try:
            tasks = os.listdir("/proc/self/task")
        except OSError:
            return
        for tid_text in tasks:
            tid = int(tid_text)
            if tid in known:
                continue
            try:
                text = Path(f"/proc/self/task/{tid}/stat").read_text()
            except OSError:
                continue
            comm = text[text.index("(") + 1:text.rindex(")")]
            fields = text.rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / self.ticks
            spent = cpu - self.native_last.get(tid, cpu)
            self.native_last[tid] = cpu
            if spent > 0 and self.label != "idle":
                self.cpu[f"native:{comm}|"] += spent

    def _check_label(self) -> None:
        try:
            label = (self.folder / "label").read_text().strip() or "idle"
        except OSError:
            label = "idle"
        if label != self.label:
            if self.cpu:
                with open(self.out, "a") as out:
                    out.write(json.dumps({"pid": os.getpid(), "label": self.label, "cpu": self.cpu,
                                          "gc": self.gc}) + "\n")
            self.cpu, self.gc = collections.Counter(), collections.Counter()
            self.label = label


def start() -> None:
    folder = os.environ.get("STACK_SAMPLES_DIR")
    if not folder:
        return
    sampler = Sampler(Path(folder), float(os.environ.get("STACK_SAMPLES_INTERVAL", "0.005")))
    threading.Thread(target=sampler.run, name="stack-sampler", daemon=True).start()


def report(folder: Path, top: int = 30, match: str = "") -> None:
    """Per label: CPU by thread group and the frames holding the most CPU, in ms a turn."""
    turns = json.loads((folder / "turns.json").read_text()) if (folder / "turns.json").exists() else {}
    by_label: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    collected: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for path in folder.glob("*.jsonl"):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            by_label[row["label"]].update(row["cpu"])
            collected[row["label"]].update(row.get("gc", {}))
    for label, cpu in by_label.items():
        n = max(turns.get(label, 1), 1)
        total = sum(cpu.values())
        print(f"\n## {label}: {n} turns, {1000 * total / n:.1f} ms sampled a turn")
        groups: collections.Counter = collections.Counter()
        frames: collections.Counter = collections.Counter()
        for key, seconds in cpu.items():
            group, _, stack = key.partition("|")
            groups[group] += seconds
            if match and match not in stack:
                continue
            for name in set(stack.split(";")):
                if name.startswith(("core/", "blueprints/", "azure/", "h11/", "uvicorn/", "starlette/", "asyncio/",
                                    "sqlite3/", "json/", "concurrent/", "threading", "http")):
                    frames[f"{group} {name}"] += seconds
        for group, seconds in groups.most_common():
            print(f"  {group}: {1000 * seconds / n:.2f} ms")
        for generation in sorted(k for k in collected[label] if not k.endswith("passes")):
            print(f"  (of which the garbage collector, {generation}: {1000 * collected[label][generation] / n:.2f} ms, "
                  f"{collected[label][generation + ' passes'] / n:.2f} passes a turn)")
        print("  frames (inclusive):")
        for name, seconds in frames.most_common(top):
            print(f"    {1000 * seconds / n:6.2f} ms  {name}")


if __name__ == "__main__":
    report(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 30, sys.argv[3] if len(sys.argv) > 3 else "")
