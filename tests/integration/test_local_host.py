"""The local host itself, on a small test app: crash recovery, Durable HTTP API, queues with poison, timers."""

from __future__ import annotations

import os
import time

import httpx
import pytest
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from tests.integration.hosting import REPO, HostProcess, host_env, key_header, nudged_poller, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def test_app(storage_connection, tmp_path):
    queue = f"test-{int(time.time() * 1000) % 10**9}"
    env = host_env(storage_connection, tmp_path, TEST_QUEUE=queue, TICK_SCHEDULE="*/1 * * * * *")
    host = HostProcess(env, REPO / "tests/fixtures/durable_app", "durable_test_app", tmp_path / "host.log")
    host.queue = queue
    host.data_dir = tmp_path
    yield host
    host.stop()


def status(host, instance_id):
    return httpx.get(f"{host.base}/runtime/webhooks/durabletask/instances/{instance_id}", timeout=5,
                     headers=key_header("LOCAL_DURABLE_SYSTEM_KEY"))


def test_orchestration_survives_a_killed_host(test_app):
    test_app.start()
    response = httpx.post(f"{test_app.base}/api/start/crash1", timeout=10)
    assert response.status_code == 202
    urls = response.json()
    assert urls["id"] == "crash1" and "statusQueryGetUri" in urls
    # The first activity sleeps 1.5 s: kill the host while it runs.
    time.sleep(0.5)
    assert status(test_app, "crash1").json()["runtimeStatus"] == "Running"
    test_app.kill()

    test_app.start()
    # After the restart the interrupted activity runs again; the event may arrive before the orchestration waits.
    raised = httpx.post(urls["sendEventPostUri"].replace("{eventName}", "approve"), json="yes", timeout=5)
    assert raised.status_code == 202
    final = wait_for(lambda: (r := status(test_app, "crash1").json())["runtimeStatus"] == "Completed" and r)
    assert final["output"] == {"first": "slept 1.5", "approval": "yes", "second": "slept 0.1"}


def test_queue_trigger_retries_then_poisons(test_app):
    test_app.start()
    client = QueueClient.from_connection_string(test_app.env["AzureWebJobsStorage"], test_app.queue,
                                                message_encode_policy=TextBase64EncodePolicy())
    client.send_message("hello")
    client.send_message("fail-always")
    log = test_app.data_dir / "queue.log"
    wait_for(lambda: log.exists() and "hello dequeue=1" in log.read_text())
    wait_for(lambda: "fail-always dequeue=3" in log.read_text(), timeout=30)
    poison = QueueClient.from_connection_string(test_app.env["AzureWebJobsStorage"], f"{test_app.queue}-poison")
    messages = wait_for(lambda: list(poison.peek_messages(max_messages=5)))
    assert [m.content for m in messages] == ["ZmFpbC1hbHdheXM="]  # base64 of the original body, as in Azure
    assert log.read_text().count("hello") == 1  # processed once, deleted


def test_timer_fires_on_its_ncrontab_schedule(test_app):
    test_app.start()
    log = test_app.data_dir / "tick.log"
    wait_for(lambda: log.exists() and log.read_text().count("tick") >= 2, timeout=10)


def test_unknown_route_and_wrong_method_are_problems(test_app):
    test_app.start()
    missing = httpx.get(f"{test_app.base}/api/nothing-here", timeout=5)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    wrong = httpx.get(f"{test_app.base}/api/start/x", timeout=5)
    assert wrong.status_code == 405 and "POST" in wrong.headers["allow"]


def test_host_keys_and_every_method_answered_with_problems(test_app):
    test_app.start()
    webhooks = f"{test_app.base}/runtime/webhooks/durabletask/instances"
    open_list = httpx.get(webhooks, timeout=5)
    assert open_list.status_code == 401 and open_list.headers["content-type"] == "application/problem+json"
    assert open_list.headers["x-content-type-options"] == "nosniff" and open_list.headers["cache-control"] == "no-store"
    assert httpx.get(webhooks, timeout=5, headers=key_header("LOCAL_DURABLE_SYSTEM_KEY")).status_code == 200
    assert httpx.get(webhooks, timeout=5, params={"code": os.environ["LOCAL_MASTER_KEY"]}).status_code == 200
    assert httpx.post(f"{test_app.base}/admin/functions/tick", timeout=5).status_code == 401
    assert httpx.post(f"{test_app.base}/admin/functions/tick", timeout=5,
                      headers=key_header("LOCAL_FUNCTION_KEY")).status_code == 401
    deep = httpx.post(f"{test_app.base}/admin/functions/tick", timeout=5, headers=key_header("LOCAL_MASTER_KEY"),
                      content=b"[" * 5000 + b"]" * 5000)
    assert deep.status_code == 400 and deep.headers["content-type"] == "application/problem+json"
    for method in ("TRACE", "PROPFIND"):
        for path, allow in (("/api/start/x", "POST"), ("/admin/functions/tick", "POST"),
                            ("/runtime/webhooks/durabletask/instances", "DELETE, GET, POST")):
            response = httpx.request(method, test_app.base + path, timeout=5)
            assert response.status_code == 405 and response.headers["allow"] == allow, (method, path)
            assert response.headers["content-type"] == "application/problem+json"
        assert httpx.request(method, f"{test_app.base}/nowhere", timeout=5).headers["content-type"] == (
            "application/problem+json")


def test_a_message_this_process_sends_is_polled_at_once(storage_connection):
    """The poller's backoff is 30 s here; the message sent through the app's queue port wakes it at once (the
    Functions host's enqueue watcher), and no empty poll follows a message."""
    import asyncio

    from core.devhost.queues import QueueOptions
    from core.stores.storage_queue import StorageQueue

    queue = f"nudge-{int(time.time() * 1000) % 10**9}"
    spec, bodies = _collecting_consumer(queue)

    async def scenario() -> None:
        options = QueueOptions(min_polling_interval=30, max_polling_interval=60)
        async with nudged_poller(spec, storage_connection, options) as poller:
            await asyncio.sleep(0.2)  # the first (empty) poll is done: the poller waits its 30 s backoff
            assert poller.polls == 1
            sender = StorageQueue(storage_connection)
            for text in ("first", "second"):
                await asyncio.to_thread(sender.send, queue, text)
                await asyncio.wait_for(_until(lambda sent=text: sent in bodies), 10)
            await asyncio.sleep(0.2)
            assert bodies == ["first", "second"] and poller.processed == 2 and poller.polls == 3

    asyncio.run(scenario())


def test_messages_sent_while_a_nudged_poll_gathers_come_back_in_one_receive(storage_connection):
    """Each send nudges the poller; the poll waits its gather window, so five messages sent one after another are
    received together: one poll after the first (empty) one, each message handled once."""
    import asyncio

    from core.devhost.queues import QueueOptions
    from core.stores.storage_queue import StorageQueue

    queue = f"gather-{int(time.time() * 1000) % 10**9}"
    spec, bodies = _collecting_consumer(queue)

    async def scenario() -> None:
        options = QueueOptions(min_polling_interval=30, max_polling_interval=60, nudge_gather=3.0)
        async with nudged_poller(spec, storage_connection, options) as poller:
            sender = StorageQueue(storage_connection)
            texts = [f"m{i}" for i in range(5)]
            await asyncio.to_thread(lambda: [sender.send(queue, text) for text in texts])
            await asyncio.wait_for(_until(lambda: poller.processed == 5), 20)
            assert sorted(bodies) == texts and poller.processed == 5 and poller.polls == 2

    asyncio.run(scenario())


def _collecting_consumer(queue: str):
    """A queue-triggered function on ``queue`` and the list it appends each message's body to."""
    from core.devhost.functions import FunctionSpec

    bodies: list[str] = []

    def consume(msg) -> None:
        bodies.append(msg.get_body().decode())

    spec = FunctionSpec(name="consume", trigger_type="queueTrigger", trigger_name="msg", user_function=consume,
                        bindings=[], queue_name=queue, connection="AzureWebJobsStorage")
    return spec, bodies


async def _until(predicate) -> None:
    import asyncio

    while not predicate():
        await asyncio.sleep(0.01)


def test_the_host_wakes_only_the_pollers_of_the_queue_sent_to(tmp_path):
    import asyncio
    from types import SimpleNamespace

    from core.devhost.host import LocalHost

    async def scenario() -> list[str]:
        woken: list[str] = []
        host = LocalHost(app_dir=tmp_path)
        host.pollers = {name: SimpleNamespace(queue_name=queue, nudge=lambda name=name: woken.append(name))
                        for name, queue in (("analytics", "analytics-events"), ("bus", "events-analytics"))}
        watcher = host._enqueued_watcher(asyncio.get_running_loop())
        await asyncio.to_thread(watcher, "analytics-events")  # from a worker thread, as an activity sends
        await asyncio.to_thread(watcher, "some-other-queue")
        await asyncio.sleep(0.05)
        return woken

    assert asyncio.run(scenario()) == ["analytics"]
