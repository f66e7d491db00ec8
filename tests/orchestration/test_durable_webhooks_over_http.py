"""The Durable webhooks as the local host serves them over HTTP (in process, through the ASGI front end): keys, the
app's own key-less in-process client, and bodies that must be refused with a 400 problem rather than a failure."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from core.devhost.durable import DurableEngine, DurableHttpApi, install_in_process_transport
from core.devhost.durable.transport import uninstall_in_process_transport
from core.devhost.functions import index_functions
from core.devhost.http import HttpFrontEnd

from . import durable_app
from .conftest import Harness

BASE = "http://testserver"
WEBHOOKS = f"{BASE}/runtime/webhooks/durabletask"
SYSTEM = "test-durable-system-key"
MASTER = "test-master-key"


@pytest.fixture(autouse=True)
def keys(monkeypatch):
    monkeypatch.setenv("LOCAL_DURABLE_SYSTEM_KEY", SYSTEM)
    monkeypatch.setenv("LOCAL_MASTER_KEY", MASTER)


@asynccontextmanager
async def served(harness: Harness) -> AsyncIterator[tuple[DurableEngine, httpx.AsyncClient]]:
    async with harness.engine() as engine:
        api = DurableHttpApi(engine, f"{WEBHOOKS}/", WEBHOOKS, "TestHub", system_key=SYSTEM)
        install_in_process_transport(api)
        front = HttpFrontEnd(index_functions(durable_app.FUNCTIONS), durable_client_binding=api.binding_json,
                             durable_api=api.handle)
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=front.app), base_url=BASE) as client:
                yield engine, client
        finally:
            uninstall_in_process_transport(api)


async def test_an_event_cannot_be_raised_without_a_key(harness: Harness) -> None:
    async with served(harness) as (engine, client):
        instance = await engine.start_new("approval", "handoff--demo--c1")
        await engine.wait_idle()
        url = f"{WEBHOOKS}/instances/{instance}/raiseEvent/approval"
        forged = await client.post(url, json="fake agent reply")
        wrong = await client.post(url, json="fake agent reply", headers={"x-functions-key": "local-function-key"})
        listed = await client.get(f"{WEBHOOKS}/instances")
        await engine.wait_idle()
        still_waiting = await engine.get_status(instance)
        accepted = await client.post(url, json="real reply", headers={"x-functions-key": SYSTEM})
        done = await engine.wait_for(instance)
    assert forged.status_code == wrong.status_code == listed.status_code == 401
    assert forged.headers["content-type"] == "application/problem+json"
    assert "handoff--demo" not in listed.text
    assert still_waiting["runtimeStatus"] == "Running"
    assert accepted.status_code == 202
    assert done["output"] == {"approval": "real reply"}


async def test_the_apps_own_client_needs_no_key_and_hands_out_urls_that_carry_the_system_key(
        harness: Harness) -> None:
    async with served(harness) as (engine, client):
        started = await client.post(f"{BASE}/api/orchestrators/approval?timeout_ms=100", content=b"null")
        links = started.json()
        status = await client.get(links["statusQueryGetUri"])
        raised = await client.post(links["sendEventPostUri"].replace("{eventName}", "approval"), json="yes")
        done = await engine.wait_for(links["id"])
        with_master = await client.get(f"{WEBHOOKS}/instances/{links['id']}", params={"code": MASTER})
    assert started.status_code == 202
    assert f"code={SYSTEM}" in links["statusQueryGetUri"]
    assert status.status_code == 202 and status.json()["runtimeStatus"] == "Running"
    assert status.headers["cache-control"] == "no-store"
    assert raised.status_code == 202 and done["output"] == {"approval": "yes"}
    assert with_master.status_code == 200 and with_master.json()["runtimeStatus"] == "Completed"


DEEP = b"[" * 5000 + b"]" * 5000
BAD_BODIES = [
    (DEEP, "deeper than"),
    (b'{"a": ' + DEEP + b"}", "deeper than"),
    (b"9" * 5000, "longer than 40 digits"),
    (b"[1e999]", "out of range"),
    (b"[NaN]", "not a JSON value"),
    (b"{nope", "not valid JSON"),
    (b"\xff\xfe\xfa", "JSON"),
]


@pytest.mark.parametrize("body, says", BAD_BODIES)
async def test_unreadable_start_bodies_are_400_problems(harness: Harness, body: bytes, says: str) -> None:
    async with served(harness) as (engine, client):
        response = await client.post(f"{WEBHOOKS}/orchestrators/sequence/bad-start", content=body,
                                     headers={"x-functions-key": SYSTEM})
        started = await engine.get_status("bad-start")
    assert response.status_code == 400 and response.headers["content-type"] == "application/problem+json"
    assert says in response.json()["detail"]
    assert "Exception" not in response.text and "Traceback" not in response.text
    assert started is None


@pytest.mark.parametrize("body, says", BAD_BODIES)
async def test_unreadable_event_bodies_are_400_problems(harness: Harness, body: bytes, says: str) -> None:
    async with served(harness) as (engine, client):
        instance = await engine.start_new("approval", "bad-event")
        await engine.wait_idle()
        response = await client.post(f"{WEBHOOKS}/instances/{instance}/raiseEvent/approval", content=body,
                                     headers={"x-functions-key": SYSTEM, "content-type": "application/json"})
        await engine.wait_idle()
        status = await engine.get_status(instance)
    assert response.status_code == 400 and response.headers["content-type"] == "application/problem+json"
    assert says in response.json()["detail"]
    assert "Exception" not in response.text
    assert status["runtimeStatus"] == "Running"


@pytest.mark.parametrize("query, says", [
    ({"timeout": "soon", "pollingInterval": "1"}, "'timeout' and 'pollingInterval'"),
    ({"timeout": "nan", "pollingInterval": "1"}, "'timeout' and 'pollingInterval'"),
    ({"timeout": "9" * 5000, "pollingInterval": "1"}, "'timeout' and 'pollingInterval'"),
])
async def test_bad_start_arguments_are_400_problems_in_plain_words(harness: Harness, query: dict, says: str) -> None:
    async with served(harness) as (_engine, client):
        response = await client.post(f"{WEBHOOKS}/orchestrators/sequence", params=query, content=b'["x"]',
                                     headers={"x-functions-key": SYSTEM})
    assert response.status_code == 400 and says in response.json()["detail"]
    assert "Exception" not in response.text and "could not convert" not in response.text


async def test_unknown_orchestrator_and_bad_instance_id_are_400_problems(harness: Harness) -> None:
    async with served(harness) as (_engine, client):
        unknown = await client.post(f"{WEBHOOKS}/orchestrators/ghost", headers={"x-functions-key": SYSTEM})
        bad_id = await client.post(f"{WEBHOOKS}/orchestrators/sequence/{'x' * 300}",
                                   headers={"x-functions-key": SYSTEM})
    assert unknown.status_code == 400 and unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["detail"] == (
        "The function 'ghost' doesn't exist, is disabled, or is not an orchestrator function.")
    assert bad_id.status_code == 400 and "1 to 256 characters" in bad_id.json()["detail"]
    assert "Exception" not in unknown.text + bad_id.text
