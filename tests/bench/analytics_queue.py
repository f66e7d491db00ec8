"""The analytics queue's CPU per turn event, end to end on Azurite: publishers sending turn events at a given rate
(as the turns of one worker process do), then the local host's queue poller receiving, counting and deleting them.

Prints, for each rate, the queue messages per event and the CPU per event of the senders and of the consumer
(process CPU time, so it holds on a busy machine where wall times do not), with the events sent one message each
(``--direct``, as before the outbox) and through ``core.agents.analytics_outbox``.

Usage: python -m tests.bench.analytics_queue --azurite-ports 10255,10256,10257 [--rates 5,15,30] [--events 300]
Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from core.devhost import azurite


def _event(i: int, run: str) -> str:
    from core.models import TurnEvent

    return TurnEvent(event_id=f"{run}-{i}", tenant_id="demo", conversation_id=f"c-{i % 40}",
                     at=time.strftime("%Y-%m-%dT%H:%M:%S.000+00:00", time.gmtime()), intent="shipping",
                     language="en", confidence=0.9, escalated=False, blocked=False, grounded=True,
                     citations=1).model_dump_json()


def publish(storage: str, queue_name: str, events: int, rate: float, direct: bool) -> tuple[float, int]:
    """Send ``events`` events at ``rate`` a second (Poisson arrivals, one thread each, as activities do); returns
    the process CPU seconds spent and the number of messages sent."""
    from core.agents.analytics_outbox import EventOutbox
    from core.stores.storage_queue import StorageQueue

    queue, outbox, run = StorageQueue(storage), EventOutbox(), uuid.uuid4().hex[:8]
    queue.send(queue_name, _event(-1, run))  # the queue exists and the connection is warm before measuring
    sent = [0]
    lock = threading.Lock()

    class Counting:
        def send(self, name: str, message: str) -> None:
            queue.send(name, message)
            with lock:
                sent[0] += 1

    counting = Counting()
    rng = random.Random(7)
    cpu0 = time.process_time()
    with ThreadPoolExecutor(16) as pool:
        futures = []
        for i in range(events):
            text = _event(i, run)
            futures.append(pool.submit(counting.send, queue_name, text) if direct
                           else pool.submit(outbox.publish, counting, queue_name, text))
            time.sleep(rng.expovariate(rate))
        for future in futures:
            future.result()
    return time.process_time() - cpu0, sent[0]


_FUNCTIONS: list = []


def consume(storage: str, queue_name: str, events: int) -> float:
    """Process CPU seconds the host's poller and the analytics function spend on the queue's events."""
    import function_app
    from core.agents import analytics
    from core.config import load_settings
    from core.devhost.functions import index_functions
    from core.devhost.queues import QueueOptions, QueuePoller
    from core.rag.retrieval import KnowledgeSearch
    from core.services import Services, set_services
    from core.stores.memory_store import MemoryDocumentStore, MemoryQueue

    store = MemoryDocumentStore()
    set_services(Services(settings=load_settings(DOCUMENT_STORE="memory", EVENT_QUEUE="memory"), store=store,
                          queue=MemoryQueue(), knowledge=KnowledgeSearch(store)))
    if not _FUNCTIONS:  # app.get_functions() may be called once per app object
        _FUNCTIONS.extend(index_functions(function_app.app.get_functions()))
    spec = next(s for s in _FUNCTIONS if s.name == "analytics_events")
    spec.queue_name = queue_name

    async def drain() -> float:
        poller = QueuePoller(spec, storage, QueueOptions(min_polling_interval=0.05, max_polling_interval=0.25))
        await poller.ensure_queues()
        cpu0 = time.process_time()
        task = asyncio.create_task(poller.run_forever())
        deadline = time.monotonic() + 120
        day = time.strftime("%Y-%m-%d", time.gmtime())
        while time.monotonic() < deadline and analytics.day_counters(store, "demo", day)["turns"] < events + 1:
            await asyncio.sleep(0.05)
        spent = time.process_time() - cpu0
        task.cancel()
        await poller.close()
        return spent

    return asyncio.run(drain())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--azurite-ports", default="10143,10144,10145")
    parser.add_argument("--rates", default="5,15,30")
    parser.add_argument("--events", type=int, default=300)
    args = parser.parse_args()
    ports = tuple(int(p) for p in args.azurite_ports.split(","))
    location = Path(tempfile.mkdtemp(prefix="bench-analytics-azurite-"))
    azurite.start(location, *ports)
    storage = azurite.connection_string(*ports)
    print("| events/s | sent as | messages per event | send CPU/event | consume CPU/event | all |")
    print("|---|---|---|---|---|---|")
    try:
        for rate in (float(r) for r in args.rates.split(",")):
            for direct in (True, False):
                name = f"analytics-bench-{uuid.uuid4().hex[:8]}"
                send_cpu, messages = publish(storage, name, args.events, rate, direct)
                consume_cpu = consume(storage, name, args.events)
                per = 1000 / args.events
                print(f"| {rate:g} | {'one message each' if direct else 'outbox'} | {messages / args.events:.2f} | "
                      f"{send_cpu * per:.2f} ms | {consume_cpu * per:.2f} ms | "
                      f"{(send_cpu + consume_cpu) * per:.2f} ms |", flush=True)
    finally:
        azurite.stop(location)


if __name__ == "__main__":
    main()
