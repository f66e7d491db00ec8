"""The local host with two worker processes behind one port: both serve turns, every turn is answered, and each
worker answers for the other's instances (turn status, Durable management API)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.integration.hosting import REPO, HostProcess, host_env, key_header

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def two_workers(storage_connection, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("workers-data")
    env = host_env(storage_connection, data_dir, FUNCTIONS_WORKER_PROCESS_COUNT="2")
    subprocess.run([sys.executable, "-m", "core.tenants", "import", "demo", str(REPO / "knowledge/tenants/demo")],
                   cwd=REPO, env=env, check=True, capture_output=True)
    host = HostProcess(env, REPO, "function_app", data_dir / "host.log")
    host.start()
    yield host, data_dir
    host.stop()


def instances(path: Path) -> list[str]:
    if not path.exists():
        return []
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT instance_id FROM instances WHERE name='conversation_turn'")]


def answered(base: str, response: httpx.Response) -> dict:
    """The turn's reply: at once, or from its status URL after a 202 (a busy machine may outlast the chat wait)."""
    deadline = time.monotonic() + 120
    pending = response.json() if response.status_code == 202 else {}
    while response.status_code == 202 and time.monotonic() < deadline:
        time.sleep(0.2)
        response = httpx.get(base + pending["status_url"], timeout=60,
                             headers={"X-Conversation-Token": pending["conversation_token"]})
        if response.status_code == 200:
            return {**response.json(), "conversation_token": pending["conversation_token"]}
    assert response.status_code == 200, response.text
    return response.json()


def conversation(base: str, n: int) -> list[dict]:
    """Two turns of one conversation, each on a new connection (so either worker may take it)."""
    first = answered(base, httpx.post(f"{base}/api/tenants/demo/chat", timeout=60,
                                      json={"message": f"Do you ship to Québec? ({n})"}))
    second = answered(base, httpx.post(
        f"{base}/api/tenants/demo/chat", timeout=60,
        json={"message": "And how long does it take?", "conversation_id": first["conversation_id"]},
        headers={"X-Conversation-Token": first["conversation_token"]}))
    assert second["conversation_id"] == first["conversation_id"]
    return [first, second]


def test_both_workers_serve_turns_and_none_is_lost(two_workers):
    host, data_dir = two_workers
    files = [data_dir / "durable-ShopDeskHub.sqlite", data_dir / "durable-ShopDeskHub-w1.sqlite"]
    turns: list[dict] = []
    with ThreadPoolExecutor(8) as pool:
        for round_ in range(5):  # until each worker has orchestrated turns (connections go to either)
            for pair in pool.map(lambda n: conversation(host.base, n), range(round_ * 16, round_ * 16 + 16)):
                turns.extend(pair)
            if all(instances(f) for f in files):
                break
    held = [set(instances(f)) for f in files]
    assert all(held), "one worker served no turn"
    assert not held[0] & held[1]  # each turn orchestrated once, by one worker
    expected = {f"demo--{t['conversation_id']}--{t['turn_id']}" for t in turns}
    assert held[0] | held[1] == expected  # every answered turn is an instance of one worker, none lost

    # Either worker answers for every turn: the customer's turn status route and the Durable management API.
    def status(turn: dict) -> tuple[int, int]:
        customer = httpx.get(f"{host.base}/api/tenants/demo/conversations/{turn['conversation_id']}/turns/"
                             f"{turn['turn_id']}", headers={"X-Conversation-Token": turn["conversation_token"]},
                             timeout=30)
        durable = httpx.get(f"{host.base}/runtime/webhooks/durabletask/instances/"
                            f"demo--{turn['conversation_id']}--{turn['turn_id']}",
                            headers=key_header("LOCAL_DURABLE_SYSTEM_KEY"), timeout=30)
        return customer.status_code, durable.status_code

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(status, turns))
    assert all(customer == 200 and durable in (200, 202) for customer, durable in answers), answers
    listed = httpx.get(f"{host.base}/runtime/webhooks/durabletask/instances",
                       params={"instanceIdPrefix": "demo--"}, headers=key_header("LOCAL_DURABLE_SYSTEM_KEY"),
                       timeout=30)
    assert listed.status_code == 200
    assert expected <= {row["instanceId"] for row in listed.json()}  # the list covers both workers


def test_a_kept_alive_client_is_not_tied_to_one_worker(two_workers):
    """Workers accept from one socket: each answer closes its connection, so a client's next request is accepted
    by whichever worker is free, not by the one that took its first connection."""
    host, _ = two_workers
    with httpx.Client(base_url=host.base, timeout=30) as client:
        answers = [client.get("/api/health") for _ in range(3)]
    assert all(a.status_code == 200 and a.headers["connection"] == "close" for a in answers)
