"""Events under load: bounded bursts of signed Shopify webhooks through webhook → CloudEvent → agent queues →
handlers on the local host (Azurite queues, SQLite store), with the seed's limits as configured by default
(``EVENTS_GLOBAL_RATE`` 100 events/s, ``EVENTS_AGENT_RATE`` 20/s and ``EVENTS_AGENT_CONCURRENCY`` 5 per agent).

Per burst: webhooks accepted per second, deliveries per second end to end, each delivery's latency from the
webhook's receipt (the CloudEvent's ``time``) to its handler's receipt, and the busiest 5 seconds' deliveries
per second of one agent and of all agents (what the limits cap). Called by ``tests.bench.load``.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from datetime import datetime
from pathlib import Path

from tests.bench.chat_latency import percentile
from tests.bench.events import send_webhooks, start_host, wait_settled


def deliveries(data_dir: Path) -> list[tuple[str, float, float]]:
    """(agent, event time, handled at) of every handled delivery, as epoch seconds."""
    with sqlite3.connect(data_dir / "documents.sqlite") as conn:
        times = {}
        for body, in conn.execute("SELECT body FROM documents WHERE collection='event-log'"):
            event = _json(body)
            times[event["id"]] = _epoch(event["time"])
        rows = []
        for doc_id, body in conn.execute("SELECT id, body FROM documents WHERE collection='event-receipts'"):
            agent, _, event_id = doc_id.partition("--")
            if event_id in times:
                rows.append((agent, times[event_id], _epoch(_json(body)["at"])))
    return rows


def _json(text: str) -> dict:
    import json

    return json.loads(text)


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def peak_rate(stamps: list[float], window: float = 5.0) -> float:
    """The most deliveries completed in any ``window`` seconds, per second (admissions are what the token buckets
    pace; completions of up to 5 concurrent handlers bunch within a second)."""
    ordered = sorted(stamps)
    best, start = 0, 0
    for end, stamp in enumerate(ordered):
        while stamp - ordered[start] > window:
            start += 1
        best = max(best, end - start + 1)
    return best / window


def load_figures(storage: str, bursts: tuple[int, ...] = (100, 400)) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-load-events-"))
    host = start_host(storage, data_dir)
    try:
        asyncio.run(send_webhooks(host.base, 20))  # warm-up
        wait_settled(host, 40, 60)
        seen = {(a, e, h) for a, e, h in deliveries(data_dir)}
        print("\nevents: signed Shopify customers/update webhooks (2 subscribing agents each), seed limits on")
        print("| burst | accepted/s | deliveries/s end to end | latency p50 | p95 | max | busiest 5 s, one agent | "
              "busiest 5 s, all |")
        print("|---|---|---|---|---|---|---|---|")
        handled_before = wait_settled(host, 0, 1)[0].get("handled", 0)
        for burst in bursts:
            began = time.time()
            seconds, _latencies, accepted = asyncio.run(send_webhooks(host.base, burst))
            totals, _ = wait_settled(host, handled_before + 2 * burst, 300)
            handled_before = totals.get("handled", 0)
            new = [row for row in deliveries(data_dir) if row not in seen]
            seen.update(new)
            lat = [(h - e) * 1000 for _, e, h in new] or [0.0]
            span = max((h for _, _, h in new), default=began) - began
            by_agent = {agent: [h for a, _, h in new if a == agent] for agent in {a for a, _, _ in new}}
            rate = len(new) / max(span, 1e-3)
            print(f"| {burst} | {accepted / seconds:.0f} | {rate:.1f} | {percentile(lat, 50):.0f} ms | "
                  f"{percentile(lat, 95):.0f} ms | {max(lat):.0f} ms | "
                  f"{max((peak_rate(v) for v in by_agent.values()), default=0):.1f} | "
                  f"{peak_rate([h for _, _, h in new]):.1f} |")
    finally:
        host.stop()
