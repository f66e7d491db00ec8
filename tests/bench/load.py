"""Closed-loop load on the local app: chat turns per second and latency at 1, 10, 50 and 100 customers.

Each simulated customer holds 4-turn conversations with the demo shop and sends its next message as soon as the
reply arrives (a closed loop: the load is the number of customers, not a rate). Messages are customer utterances
in en / fr-CA / es in a fixed shuffled order, each sent once per host so no turn finds its embedding cached. A
turn answered 202 (it outlasted the chat wait) is counted as non-200 and then polled at its status URL until it
answers.

For each number of customers: turns/s over the measured window, p50 / p95 latency, non-200 answers, and the CPU
the host (with its worker processes), Azurite and this load generator (the client) spent per turn.
``--baseline DIR`` runs the same table against another checkout of the app (e.g. ``git worktree add /tmp/base
<commit>``), started the same way on the same Azurite, so two versions are measured side by side in one run.
Then the events figures (``tests.bench.events`` bursts with the seed's limits on).

``--sample-stacks DIR`` starts ``tests.bench.stack_sampler`` in every process of the hosts and writes each measured
level's CPU by thread and stack to DIR (``python -m tests.bench.stack_sampler DIR`` prints it in ms a turn).

Usage: python -m tests.bench.load [--customers 1,10,50,100] [--seconds 20] [--baseline DIR] [--no-events]
       [--sample-stacks DIR]
Prints figures; asserts nothing (speed is measured here, not in tests).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from core.devhost import azurite
from tests.bench.chat_latency import machine_reference_ms, percentile
from tests.integration.hosting import free_port

REPO = Path(__file__).resolve().parents[2]
TURNS_PER_CONVERSATION = 4
TICKS = os.sysconf("SC_CLK_TCK")
POOL_SEED = 20261125
SAMPLER = REPO / "tests/bench/stack_sampler.py"


def message_pool(root: Path = REPO) -> list[str]:
    """Distinct customer messages in en / fr-CA / es (the blind sets and the labelled utterances), in one fixed
    shuffled order: the files differ in length and in how many messages ask several things (the later ones twice
    as long on average), so in file order each level of the bench, taking the next stretch of the pool, would
    measure other messages than the level before it."""
    files = [root / "knowledge/eval/intent-blind", root / "knowledge/intents", root / "knowledge/intents/authors"]
    by_language: dict[str, list[str]] = {"en": [], "fr-CA": [], "es": []}
    for folder in files:
        for path in sorted(folder.glob("*.jsonl")):
            language = next((lang for lang in by_language if path.stem.endswith(lang)), None)
            if language is None:
                continue
            for line in path.read_text("utf-8").splitlines():
                if line.strip():
                    by_language[language].append(json.loads(line)["text"])
    mixed = (text for row in itertools.zip_longest(*by_language.values()) for text in row if text)
    texts = [text for text in dict.fromkeys(mixed) if len(text.encode()) < 4000]
    random.Random(POOL_SEED).shuffle(texts)
    return texts


def process_cpu_seconds(pid: int) -> float:
    """CPU time of a process and of the children it has waited for, plus its live descendants."""
    return process_cpu(pid)[0]


def process_cpu(pid: int) -> tuple[float, float, int]:
    """As ``process_cpu_seconds``, with the kernel's share of it and the context switches of every thread (the
    cost of threads handing the GIL and the cores to each other shows there)."""
    total = kernel = 0.0
    switches = 0
    for proc in [pid, *descendants(pid)]:
        try:
            fields = Path(f"/proc/{proc}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(v) for v in fields[11:15]) / TICKS  # utime stime cutime cstime
        kernel += (int(fields[12]) + int(fields[14])) / TICKS
        for status in Path(f"/proc/{proc}/task").glob("*/status"):
            try:
                lines = status.read_text().splitlines()
            except OSError:
                continue
            switches += sum(int(line.split()[1]) for line in lines if "ctxt_switches:" in line)
    return total, kernel, switches


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return found
    for child in children:
        found.append(int(child))
        found.extend(descendants(int(child)))
    return found


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@dataclass
class Level:
    customers: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    turns: int = 0
    not_ok: dict[int, int] = field(default_factory=dict)
    host_cpu: float = 0.0
    host_kernel: float = 0.0
    host_switches: int = 0
    azurite_cpu: float = 0.0
    client_cpu: float = 0.0
    load: str = ""

    @property
    def rate(self) -> float:
        return self.turns / self.seconds


class Checkout:
    """One checkout of the app served by the local host on a free port, with its own data folder."""

    def __init__(self, root: Path, storage: str, label: str, extra: dict[str, str], samples: Path | None = None):
        self.root, self.label = root, label
        self.data = Path(tempfile.mkdtemp(prefix="bench-load-"))
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
        self.env.update({
            "FUNCTIONS_WORKER_RUNTIME": "python", "AzureWebJobsStorage": storage, "DATA_DIR": str(self.data),
            "DOCUMENT_STORE": "sqlite", "EVENT_QUEUE": "storage", "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1",
            "ANALYTICS_QUEUE_NAME": f"analytics-{uuid.uuid4().hex[:10]}",
            "ESCALATION_QUEUE_NAME": f"escalations-{uuid.uuid4().hex[:10]}",
            "KNOWLEDGE_EVENTS_QUEUE_NAME": f"knowledge-{uuid.uuid4().hex[:10]}",
            "PYTHONPATH": str(root),
        })
        self.env.update(extra)
        self.short = "base" if label.startswith("baseline") else "this"
        if samples is not None:
            site = samples / "site"
            site.mkdir(parents=True, exist_ok=True)
            (site / "sitecustomize.py").write_text(
                "import importlib.util\n"
                f"spec = importlib.util.spec_from_file_location('stack_sampler', {str(SAMPLER)!r})\n"
                "module = importlib.util.module_from_spec(spec)\nspec.loader.exec_module(module)\nmodule.start()\n")
            self.env.update(STACK_SAMPLES_DIR=str(samples), PYTHONPATH=f"{site}{os.pathsep}{root}")
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        demo = str(self.root / "knowledge/tenants/demo")
        subprocess.run([sys.executable, "-m", "core.tenants", "import", "demo", demo], cwd=self.root, env=self.env,
                       check=True, capture_output=True)
        log = open(self.data / "host.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, *(os.environ["LOAD_HOST_SCRIPT"].split() if os.environ.get("LOAD_HOST_SCRIPT")
                               else ["-m", "core.devhost"]), "--app-dir", str(self.root), "--port", str(self.port),
             "--settings", str(self.root / "local.settings.sample.json"), "--no-timers"],
            cwd=self.root, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.label}: host exited: {(self.data / 'host.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.base}/api/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"{self.label}: host not healthy after 120 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)


async def customer(client: httpx.AsyncClient, messages: itertools.count, pool: list[str], level: Level,
                   window: tuple[float, float], stop_at: float) -> None:
    conversation, token, turn = None, None, 0
    while time.perf_counter() < stop_at:
        body: dict = {"message": pool[next(messages) % len(pool)]}
        headers = {}
        if conversation and token and turn % TURNS_PER_CONVERSATION:
            body["conversation_id"] = conversation
            headers["X-Conversation-Token"] = token
        began = time.perf_counter()
        pending_token = None
        try:
            response = await client.post("/api/tenants/demo/chat", json=body, headers=headers)
            status = response.status_code
            if status == 202:
                location = response.headers.get("location", "")
                pending_token = response.json().get("conversation_token") or ""
                while location:
                    await asyncio.sleep(0.2)
                    response = await client.get(location, headers={"X-Conversation-Token": pending_token})
                    if response.status_code != 202:
                        break
                final = response.status_code
            else:
                final = status
        except httpx.HTTPError:
            status = final = 599
        ended = time.perf_counter()
        if window[0] <= ended <= window[1]:
            level.turns += 1
            level.latencies.append((ended - began) * 1000)
            if status != 200:
                level.not_ok[status] = level.not_ok.get(status, 0) + 1
        turn += 1
        if final == 200:
            data = response.json()
            conversation, token = data.get("conversation_id"), data.get("conversation_token") or pending_token
        else:
            conversation, token, turn = None, None, 0


def mark_level(folder: Path | None, label: str, turns: int | None = None) -> None:
    """Tells the hosts' stack samplers which level runs now (``idle`` between levels) and records its turns."""
    if folder is None:
        return
    if turns is None:
        (folder / "label").write_text(label)
    else:
        path = folder / "turns.json"
        counts = json.loads(path.read_text()) if path.exists() else {}
        counts[label] = turns
        path.write_text(json.dumps(counts))


async def run_level(checkout: Checkout, azurite_pid: int | None, customers: int, seconds: float, warm: float,
                    messages: itertools.count, pool: list[str], samples: Path | None = None) -> Level:
    level = Level(customers, seconds)
    limits = httpx.Limits(max_connections=customers + 10, max_keepalive_connections=customers + 10)
    async with httpx.AsyncClient(base_url=checkout.base, timeout=60, limits=limits) as client:
        start = time.perf_counter()
        window = (start + warm, start + warm + seconds)
        assert checkout.process is not None
        tasks = [asyncio.create_task(customer(client, messages, pool, level, window, window[1]))
                 for _ in range(customers)]
        await asyncio.sleep(warm)
        label = f"{checkout.short}-{customers}"
        mark_level(samples, label)
        host0, kernel0, switches0 = process_cpu(checkout.process.pid)
        azurite0 = process_cpu_seconds(azurite_pid) if azurite_pid else 0.0
        client0 = time.process_time()
        await asyncio.sleep(seconds)
        level.client_cpu = time.process_time() - client0
        host1, kernel1, switches1 = process_cpu(checkout.process.pid)
        level.host_cpu, level.host_kernel, level.host_switches = host1 - host0, kernel1 - kernel0, switches1 - switches0
        level.azurite_cpu = (process_cpu_seconds(azurite_pid) - azurite0) if azurite_pid else 0.0
        level.load = load_average()
        mark_level(samples, "idle")
        await asyncio.gather(*tasks)
        mark_level(samples, label, level.turns)
    return level


def print_table(label: str, levels: list[Level]) -> None:
    print(f"\n{label}")
    print("| customers | turns/s | p50 | p95 | non-200 | host CPU/turn | of which kernel | host thread switches/turn "
          "| Azurite CPU/turn | client CPU/turn | load avg |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for lv in levels:
        lat = lv.latencies or [0.0]
        bad = sum(lv.not_ok.values())
        bad_text = "0" if not bad else ", ".join(f"{n} x {code}" for code, n in sorted(lv.not_ok.items()))
        per_turn = 1000 / max(lv.turns, 1)
        print(f"| {lv.customers} | {lv.rate:.1f} | {fmt_ms(percentile(lat, 50))} | {fmt_ms(percentile(lat, 95))} | "
              f"{bad_text} | {lv.host_cpu * per_turn:.1f} ms | {lv.host_kernel * per_turn:.1f} ms | "
              f"{lv.host_switches / max(lv.turns, 1):.0f} | {lv.azurite_cpu * per_turn:.1f} ms | "
              f"{lv.client_cpu * per_turn:.1f} ms | {lv.load} |")
    by = {lv.customers: lv for lv in levels}
    if 10 in by and 100 in by and by[10].rate:
        print(f"throughput at 100 customers / at 10: {by[100].rate / by[10].rate:.2f}")


def fmt_ms(ms: float) -> str:
    return f"{ms / 1000:.1f} s" if ms >= 1000 else f"{ms:.0f} ms"


def azurite_pid(location: Path) -> int | None:
    try:
        return int((location / "azurite.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def measure(root: Path, label: str, storage: str, location: Path, args: argparse.Namespace, pool: list[str],
            extra: dict[str, str]) -> list[Level]:
    checkout = Checkout(root, storage, label, extra, args.sample_stacks)
    checkout.start()
    try:
        messages = itertools.count()
        asyncio.run(run_level(checkout, None, 4, 3, 0, messages, pool))  # warm-up: first call of each path
        levels = []
        for customers in args.customers:
            levels.append(asyncio.run(run_level(checkout, azurite_pid(location), customers, args.seconds, args.warm,
                                                messages, pool, args.sample_stacks)))
            time.sleep(1)
        return levels
    finally:
        checkout.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", default="1,10,50,100")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warm", type=float, default=3, help="seconds of each level not measured")
    parser.add_argument("--baseline", default=os.environ.get("BASELINE") or None)
    parser.add_argument("--azurite-ports", default=os.environ.get("LOAD_AZURITE_PORTS", "10143,10144,10145"))
    parser.add_argument("--no-events", action="store_true")
    parser.add_argument("--set", action="append", default=[], help="SETTING=value for the hosts (repeatable)")
    parser.add_argument("--sample-stacks", type=Path, default=None, help="folder for the hosts' CPU by stack")
    args = parser.parse_args()
    args.customers = [int(c) for c in args.customers.split(",")]
    extra = dict(item.split("=", 1) for item in args.set)
    ports = tuple(int(p) for p in args.azurite_ports.split(","))
    location = Path(tempfile.mkdtemp(prefix="bench-load-azurite-"))
    azurite.start(location, *ports)
    storage = azurite.connection_string(*ports)
    pool = message_pool()
    print(f"{len(pool)} distinct messages; {os.cpu_count()} CPUs; load average {load_average()}; "
          f"machine reference (3M-iteration Python loop): {machine_reference_ms():.0f} ms")
    try:
        checkouts = [(REPO, f"this checkout ({git_head(REPO)})")]
        if args.baseline:
            base = Path(args.baseline).resolve()
            checkouts.append((base, f"baseline {args.baseline} ({git_head(base)})"))
        tables = [(label, measure(root, label, storage, location, args, pool, extra)) for root, label in checkouts]
        for label, levels in tables:
            print_table(label, levels)
        print(f"machine reference after: {machine_reference_ms():.0f} ms; load average {load_average()}")
        if not args.no_events:
            from tests.bench.event_bursts import load_figures

            load_figures(storage)
            print(f"load average {load_average()}")
    finally:
        azurite.stop(location)


def git_head(root: Path) -> str:
    try:
        return subprocess.run(["git", "log", "-1", "--format=%h"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


if __name__ == "__main__":
    main()
