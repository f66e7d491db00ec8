"""Delivery: retries after 1-2-4-8-16 s then a dead letter, one effect per event, replay (dead letters and time
ranges), rate limits and concurrency, drop-oldest with alerts, and the Event Grid adapter's wire format."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from azure.core.pipeline.transport import HttpResponse

from core.events import catalog
from core.events.delivery import Dispatcher
from core.events.ledger import Ledger
from core.events.publisher import Bus, EventGridPublisher, LocalPublisher
from core.events.queues import MemoryEventQueues
from core.events.throttle import Limits, TokenBucket
from core.stores.memory_store import MemoryDocumentStore
from tests.fixtures.wire import InMemoryTransport


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def rig(fault_rate=0.0, rate=10_000.0, concurrency=5, max_depth=1000, dead_letter_alert=10):
    clock = Clock()
    store = MemoryDocumentStore()
    queues = MemoryEventQueues(clock=clock)
    ledger = Ledger(store, flush_seconds=0, dead_letter_alert=dead_letter_alert, drop_alert=50)
    bus = Bus(LocalPublisher(queues, ledger, max_depth=max_depth, check_every=1), ledger, queues)
    dispatcher = Dispatcher(ledger, Limits(rate, rate, concurrency),
                            lambda agent, event, delay: bus.deliver_to(agent, event, delay_seconds=delay),
                            fault_rate=fault_rate)
    return clock, store, queues, ledger, bus, dispatcher


def event(tenant="demo", n=1):
    return catalog.new_event(tenant, "shopify.customers.created", str(n), {"id": n}, event_id=f"e{n}")


async def drain(dispatcher, queues, clock, agent, handler, seconds=40):
    """Deliver everything visible, advancing the virtual clock one second at a time."""
    outcomes = []
    for _ in range(seconds):
        for text in queues.receive(catalog.queue_for(agent), limit=10_000):
            outcomes.extend(await dispatcher.deliver(agent, text, handler))
        clock.now += 1
    return outcomes


def test_failed_handler_retries_after_1_2_4_8_16_seconds_then_dead_letters():
    clock, store, queues, ledger, bus, dispatcher = rig()
    calls: list[float] = []

    def always_fails(ev):
        calls.append(clock.now)
        raise RuntimeError("customer x@example.com broke it")

    bus.publish([event()])
    outcomes = asyncio.run(drain(dispatcher, queues, clock, "knowledge", always_fails))
    assert outcomes == ["retried"] * 5 + ["dead_lettered"]
    assert [b - a for a, b in zip(calls, calls[1:], strict=False)] == [1, 2, 4, 8, 16]
    letters = ledger.dead_letters("demo")
    assert len(letters) == 1 and letters[0]["error"] == "RuntimeError" and letters[0]["attempts"] == 6
    assert "x@example.com" not in json.dumps(letters)  # only the exception type is kept

    # Replay after the fix: handled once, the dead letter is gone.
    handled = []
    assert bus.replay_dead_letters("demo") == 1
    assert asyncio.run(drain(dispatcher, queues, clock, "knowledge", handled.append, 2)) == ["handled"]
    assert len(handled) == 1 and ledger.dead_letters("demo") == []


def test_duplicate_deliveries_have_one_effect_and_replay_completes_without_doubling():
    clock, store, queues, ledger, bus, dispatcher = rig()
    effects: list[str] = []
    events = [event(n=i) for i in range(5)]
    bus.publish(events)
    bus.publish(events[:2])  # a publisher retry
    outcomes = asyncio.run(drain(dispatcher, queues, clock, "knowledge", lambda ev: effects.append(ev.id), 2))
    assert sorted(effects) == sorted(e.id for e in events)
    assert outcomes.count("duplicate") == 2
    start, end = events[0].time[:10] + "T00:00:00.000Z", events[-1].time[:10] + "T23:59:59.999Z"
    assert bus.replay_range("demo", start, end, agents=["knowledge"]) == 5  # one log entry per event id
    asyncio.run(drain(dispatcher, queues, clock, "knowledge", lambda ev: effects.append(ev.id), 2))
    assert len(effects) == 5
    assert bus.replay_range("northwind-tea", start, end) == 0  # tenants never see each other's log


def test_ten_percent_faults_lose_nothing():
    clock, store, queues, ledger, bus, dispatcher = rig(fault_rate=0.1)
    done: set[str] = set()
    bus.publish([event(n=i) for i in range(300)])
    outcomes = asyncio.run(drain(dispatcher, queues, clock, "knowledge", lambda ev: done.add(ev.id), 60))
    assert len(done) == 300 and outcomes.count("handled") == 300
    assert outcomes.count("retried") > 10 and ledger.dead_letters("demo") == []


def test_depth_limit_drops_oldest_warns_and_alerts(caplog):
    clock, store, queues, ledger, bus, dispatcher = rig(max_depth=100)
    bus.publish([event(n=i) for i in range(180)])
    texts = queues.receive("events-knowledge", limit=10_000)
    assert len(texts) == 100
    assert json.loads(texts[0])["id"] == "e80"  # the 80 oldest went
    stats = ledger.statistics("demo")
    assert stats["totals"]["dropped.events-knowledge"] == 80 and stats["totals"]["dropped.events-analytics"] == 80
    assert any(a["kind"] == "dropped" for a in stats["alerts"])
    assert "dropped the" in caplog.text


def test_dead_letter_alert_above_threshold():
    clock, store, queues, ledger, bus, dispatcher = rig(dead_letter_alert=2)
    for i in range(3):
        ledger.dead_letter("knowledge", event(n=i), "RuntimeError")
    assert [a["kind"] for a in ledger.alerts("demo")] == ["dead_letters"]


def test_token_bucket_holds_the_rate():
    clock = Clock()
    bucket = TokenBucket(20, clock=clock)
    waits = [bucket.reserve() for _ in range(100)]
    # The 100th event of a burst waits until the rate allows it: about (100 - burst) / 20 s.
    assert waits[0] == 0 and waits[-1] == pytest.approx((100 - bucket.capacity) / 20, abs=0.01)


def test_agent_concurrency_is_capped():
    limits = Limits(10_000, 10_000, 5)
    running, peak = 0, 0

    async def one():
        nonlocal running, peak
        await limits.admit("response")
        async with limits.semaphore("response"):
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.01)
            running -= 1

    async def main():
        await asyncio.gather(*(one() for _ in range(40)))

    asyncio.run(main())
    assert peak == 5


def test_rate_limit_in_real_time():
    limits = Limits(1000, 50, 5)

    async def main():
        began = time.perf_counter()
        for _ in range(30):
            await limits.admit("analytics")
        return time.perf_counter() - began

    assert asyncio.run(main()) >= (30 - 5) / 50 * 0.9


class _Recorded(HttpResponse):
    def __init__(self, request, status):
        super().__init__(request, None)
        self.status_code = status
        self.headers = {"content-length": "0"}
        self.reason = "OK"
        self.content_type = None

    def body(self):
        return b""


class EventGridWire(InMemoryTransport):
    """Answers as Event Grid does (200, empty body) and keeps each request."""

    def __init__(self, status=200):
        self.status = status
        self.requests = []

    def send(self, request, **kwargs):
        self.requests.append(request)
        return _Recorded(request, self.status)


def test_event_grid_adapter_sends_cloudevents_batch_with_sas_key():
    wire = EventGridWire()
    publisher = EventGridPublisher("https://shopdesk-events.canadacentral-1.eventgrid.azure.net/api/events",
                                   key="topic-key", transport=wire, retry_total=0)
    ev = catalog.new_event("demo", "shopify.orders.fulfilled", "1040", {"id": 5, "order_number": 1040},
                           event_id="abc")
    publisher.publish([ev])
    request = wire.requests[0]
    assert request.method == "POST"
    assert request.url.startswith("https://shopdesk-events.canadacentral-1.eventgrid.azure.net/api/events?")
    assert "api-version=2018-01-01" in request.url
    assert request.headers["aeg-sas-key"] == "topic-key"
    assert request.headers["Content-Type"].startswith("application/cloudevents-batch+json")
    body = json.loads(request.body)
    assert body[0]["id"] == "abc" and body[0]["type"] == "shopify.orders.fulfilled"
    assert body[0]["subject"] == "tenants/demo/orders/1040" and body[0]["tenantid"] == "demo"
    assert body[0]["data"]["order_number"] == 1040 and body[0]["specversion"] == "1.0"


def test_event_grid_adapter_surfaces_a_refusal():
    from azure.core.exceptions import HttpResponseError

    publisher = EventGridPublisher("https://t.westus-1.eventgrid.azure.net/api/events", key="k",
                                   transport=EventGridWire(status=401), retry_total=0)
    with pytest.raises(HttpResponseError):
        publisher.publish([event()])


def test_handlers_start_at_the_agents_rate_while_the_process_is_busy():
    """Admission and the handler's start are not separated by a wait for a thread: with every thread of the
    process's shared pool busy, the handlers of a burst still start paced at the agent's rate, not in a bunch once
    the pool frees up."""
    _, _, queues, _, _, dispatcher = rig()
    dispatcher.limits = Limits(1000, 20, 5)
    started: list[float] = []

    def handler(_event):
        started.append(time.monotonic())

    async def main():
        from concurrent.futures import ThreadPoolExecutor

        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(4))
        busy = [loop.run_in_executor(None, time.sleep, 1.5) for _ in range(4)]  # the shared pool, saturated
        bursts = [dispatcher.deliver_one("analytics", event(n=n), handler) for n in range(30)]
        await asyncio.gather(*bursts, *busy)

    asyncio.run(main())
    assert len(started) == 30
    busiest = max(sum(1 for t in started if s <= t < s + 0.5) for s in started)
    assert busiest <= 0.5 * 20 + dispatcher.limits._bucket("analytics").capacity + 1
