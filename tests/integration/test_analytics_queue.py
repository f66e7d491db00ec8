"""The analytics queue on the local host: the messages of one poll are each counted once (a redelivered event
not again) and a message that can never be recorded goes to the poison queue."""

from __future__ import annotations

import asyncio
import time

from core.agents import analytics
from tests.integration.hosting import nudged_poller


def _event(i: int) -> str:
    return analytics.TurnEvent(event_id=f"evt-q-{i}", tenant_id="demo", conversation_id=f"c-{i % 2}",
                               at="2026-11-21T10:05:00.000+00:00", intent="shipping", language="en",
                               confidence=0.9, escalated=False, blocked=False, grounded=True,
                               citations=1).model_dump_json()


def test_one_polls_analytics_messages_are_each_counted_once_and_a_bad_one_is_poisoned(storage_connection, services,
                                                                                     functions):
    from azure.storage.queue import QueueClient

    from core.devhost.functions import FunctionSpec
    from core.devhost.queues import QueueOptions, QueuePoller
    from core.stores.storage_queue import StorageQueue

    queue = f"analytics-batch-{int(time.time() * 1000) % 10**9}"
    handler = next(f for f in functions if f.get_function_name() == "analytics_events").get_user_function()
    messages = [_event(i) for i in range(6)] + [_event(2), "{not json"]

    async def scenario() -> QueuePoller:
        spec = FunctionSpec(name="analytics_events", trigger_type="queueTrigger", trigger_name="msg",
                            user_function=handler, bindings=[], queue_name=queue, connection="AzureWebJobsStorage")
        options = QueueOptions(min_polling_interval=30, max_polling_interval=60, max_dequeue_count=1, nudge_gather=3.0)
        async with nudged_poller(spec, storage_connection, options) as poller:
            sender = StorageQueue(storage_connection)
            await asyncio.to_thread(lambda: [sender.send(queue, text) for text in messages])
            deadline = time.monotonic() + 30
            while poller.processed + poller.poisoned < len(messages) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            return poller

    poller = asyncio.run(scenario())
    assert (poller.processed, poller.poisoned, poller.polls) == (7, 1, 2)  # one receive for all eight
    body = services.store.get("demo", analytics.STATS, "2026-11-21T10:05").body
    assert body["turns"] == 6 and sorted(body["event_ids"]) == sorted(f"evt-q-{i}" for i in range(6))
    poison = QueueClient.from_connection_string(storage_connection, f"{queue}-poison")
    assert len(list(poison.peek_messages(max_messages=5))) == 1
