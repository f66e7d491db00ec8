"""The local host itself, on a small test app: crash recovery, Durable HTTP API, queues with poison, timers."""

from __future__ import annotations

import time

import httpx
import pytest
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from tests.integration.hosting import REPO, HostProcess, host_env

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


def wait_for(predicate, timeout=20.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def status(host, instance_id):
    return httpx.get(f"{host.base}/runtime/webhooks/durabletask/instances/{instance_id}", timeout=5)


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
