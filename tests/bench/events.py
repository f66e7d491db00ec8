"""Event bus benchmark on the local host (Azurite queues, SQLite store):

1. webhooks accepted per second and latency p50/p99 (signed Shopify webhooks, 16 concurrent senders);
   ... and the latency of a steady 50/s and 100/s stream (open loop, as vendors send);
2. events per second end to end: events published on the bus → agent queues → handlers (every subscriber done);
3. with EVENTS_FAULT_RATE=0.1 (10 % of handler runs fail): retried, dead-lettered and lost events.

Rate limits are raised for runs 1-2 (the default 100 events/s cap would be what is measured); run 3 keeps them.
Usage: python -m tests.bench.events [--webhooks 2000] [--faulty 500]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

from core.devhost import azurite
from tests.integration.hosting import HostProcess, free_port, host_env

REPO = Path(__file__).resolve().parents[2]
SECRET = "bench-secret"
KEY = "bench-key"


def start_host(storage: str, data: Path, **extra: str) -> HostProcess:
    env = host_env(storage, data, LOCAL_FUNCTION_KEY=KEY, SHOPIFY_WEBHOOK_SECRET_DEMO=SECRET, LOG_LEVEL="WARNING",
                   PROMOTIONS_SCHEDULE="0 0 0 1 1 *", SYNC_TICK_SCHEDULE="0 0 0 1 1 *", **extra)
    subprocess.run([sys.executable, "-m", "core.tenants", "import", "demo", str(REPO / "knowledge/tenants/demo")],
                   cwd=REPO, env=env, check=True, capture_output=True)
    host = HostProcess(env, REPO, "function_app", data / "host.log")
    host.start()
    return host


def signed(n: int) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"id": 900000 + n, "email": f"bench{n}@example.com", "first_name": "Bench",
                       "updated_at": datetime.now(UTC).isoformat()}).encode()
    return body, {"X-Shopify-Hmac-Sha256": base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256)
                                                            .digest()).decode(),
                  "X-Shopify-Topic": "customers/update", "X-Shopify-Webhook-Id": str(uuid.uuid4()),
                  "X-Shopify-Triggered-At": datetime.now(UTC).isoformat(), "Content-Type": "application/json"}


async def send_webhooks(base: str, count: int, concurrency: int = 16) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    accepted = 0
    payloads = [signed(i) for i in range(count)]
    queue: asyncio.Queue = asyncio.Queue()
    for item in payloads:
        queue.put_nowait(item)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal accepted
        while not queue.empty():
            body, headers = queue.get_nowait()
            began = time.perf_counter()
            response = await client.post(f"{base}/api/webhooks/shopify/demo", content=body, headers=headers)
            latencies.append((time.perf_counter() - began) * 1000)
            accepted += response.status_code == 202

    began = time.perf_counter()
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=concurrency)) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return time.perf_counter() - began, latencies, accepted


async def steady_webhooks(base: str, rate: float, seconds: float) -> tuple[list[float], int]:
    """Open loop: one webhook every 1/rate s whatever the answers do (as a vendor sends them)."""
    latencies: list[float] = []
    accepted = 0

    async def one(client: httpx.AsyncClient, n: int) -> None:
        nonlocal accepted
        body, headers = signed(100_000 + n)
        began = time.perf_counter()
        response = await client.post(f"{base}/api/webhooks/shopify/demo", content=body, headers=headers)
        latencies.append((time.perf_counter() - began) * 1000)
        accepted += response.status_code == 202

    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=200)) as client:
        tasks = []
        start = time.perf_counter()
        for n in range(int(rate * seconds)):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(client, n)))
        await asyncio.gather(*tasks)
    return latencies, accepted


def publish_direct(storage: str, count: int) -> float:
    """Publish ``count`` catalog events straight onto the bus (the local publisher into the same Azurite queues
    the host consumes); returns the seconds publishing took."""
    from core.events import catalog
    from core.events.ledger import Ledger
    from core.events.publisher import Bus, LocalPublisher
    from core.events.queues import StorageEventQueues
    from core.stores.memory_store import MemoryDocumentStore

    queues = StorageEventQueues(storage)
    ledger = Ledger(MemoryDocumentStore())
    publisher = LocalPublisher(queues, ledger, batch_window=0.01)
    bus = Bus(publisher, ledger, queues)
    began = time.perf_counter()
    for start in range(0, count, 100):
        bus.publish([catalog.new_event("demo", "shopify.customers.updated", str(n),
                                       {"id": 800000 + n, "email": f"direct{n}@example.com"})
                     for n in range(start, min(count, start + 100))])
    publisher.flush()
    return time.perf_counter() - began


def totals(host: HostProcess) -> dict[str, int]:
    response = httpx.get(f"{host.base}/api/operator/tenants/demo/events/stats", headers={"x-functions-key": KEY},
                         timeout=30)
    return response.json()["totals"]


def wait_settled(host: HostProcess, expected: int, timeout: float) -> tuple[dict[str, int], float]:
    """Until every delivery (2 subscribers per event) is handled or dead-lettered, or nothing moves for 40 s."""
    began = time.perf_counter()
    last, last_change = -1, time.monotonic()
    while time.perf_counter() - began < timeout:
        t = totals(host)
        done = t.get("handled", 0) + t.get("dead_lettered", 0)
        if done >= expected:
            return t, time.perf_counter() - began
        if done != last:
            last, last_change = done, time.monotonic()
        elif time.monotonic() - last_change > 40:
            break
        time.sleep(0.25)
    return totals(host), time.perf_counter() - began


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--webhooks", type=int, default=2000)
    parser.add_argument("--faulty", type=int, default=500)
    parser.add_argument("--events", type=int, default=5000)
    args = parser.parse_args()
    location = Path(tempfile.mkdtemp(prefix="bench-events-azurite-"))
    ports = (free_port(), free_port(), free_port())
    azurite.start(location, *ports)
    storage = azurite.connection_string(*ports)
    try:
        host = start_host(storage, Path(tempfile.mkdtemp(prefix="bench-events-")), EVENTS_GLOBAL_RATE="100000",
                          EVENTS_AGENT_RATE="100000", EVENTS_AGENT_CONCURRENCY="16")
        try:
            asyncio.run(send_webhooks(host.base, 50))  # warm-up (connections, SQLite, queues)
            wait_settled(host, 100, 60)
            seconds, latencies, accepted = asyncio.run(send_webhooks(host.base, args.webhooks))
            print(f"webhooks, 16 concurrent senders: {accepted}/{args.webhooks} accepted (202) in {seconds:.2f} s = "
                  f"{accepted / seconds:.0f}/s; latency p50 {statistics.median(latencies):.1f} ms, "
                  f"p99 {pct(latencies, 0.99):.1f} ms")
            wait_settled(host, 100 + 2 * args.webhooks, 300)
            for rate in (50, 100):
                steady, ok = asyncio.run(steady_webhooks(host.base, rate, 10))
                print(f"webhooks at a steady {rate}/s for 10 s: {ok}/{len(steady)} accepted; latency p50 "
                      f"{statistics.median(steady):.1f} ms, p99 {pct(steady, 0.99):.1f} ms")
                time.sleep(3)
            before = wait_settled(host, 10**9, 5)[0]
            began = time.perf_counter()
            published = publish_direct(storage, args.events)
            expected = before.get("handled", 0) + 2 * args.events
            after, _ = wait_settled(host, expected, 300)
            elapsed = time.perf_counter() - began
            handled = after.get("handled", 0) - before.get("handled", 0)
            print(f"bus: {args.events} events published in {published:.2f} s; {handled} handler deliveries "
                  f"(2 subscribers each) done {elapsed:.2f} s after the first publish = "
                  f"{args.events / elapsed:.0f} events/s, {handled / elapsed:.0f} deliveries/s end to end")
        finally:
            host.stop()
        host = start_host(storage, Path(tempfile.mkdtemp(prefix="bench-events-faults-")), EVENTS_FAULT_RATE="0.1")
        try:
            before = totals(host)
            asyncio.run(send_webhooks(host.base, args.faulty))
            expected = 2 * args.faulty
            after, settled = wait_settled(host, expected, 240)
            handled = after.get("handled", 0) - before.get("handled", 0)
            dead = after.get("dead_lettered", 0) - before.get("dead_lettered", 0)
            retried = after.get("retried", 0) - before.get("retried", 0)
            print(f"faults: 10 % injected, seed limits (100/s global, 20/s and 5 concurrent per agent): "
                  f"{expected} deliveries -> handled {handled}, retried {retried}, dead-lettered {dead}, "
                  f"lost {expected - handled - dead} (settled in {settled:.1f} s)")
        finally:
            host.stop()
    finally:
        azurite.stop(location)


if __name__ == "__main__":
    main()
