"""The extension's HTTP API through a real `DurableOrchestrationClient` (in-process transport) and directly."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import azure.durable_functions as df
import azure.functions as func
import pytest
from azure.durable_functions.models.OrchestrationRuntimeStatus import OrchestrationRuntimeStatus

from core.devhost.durable import DurableEngine, DurableHttpApi, install_in_process_transport
from core.devhost.durable import transport as transport_module
from core.devhost.durable.transport import client_module, uninstall_in_process_transport

from . import durable_app
from .conftest import Harness

RPC = "http://127.0.0.1:7071/runtime/webhooks/durabletask/"
PUBLIC = "http://localhost:7071/runtime/webhooks/durabletask"


@asynccontextmanager
async def durable_client(harness: Harness, **options: Any
                         ) -> AsyncIterator[tuple[DurableEngine, DurableHttpApi, df.DurableOrchestrationClient]]:
    async with harness.engine(**options) as engine:
        api = DurableHttpApi(engine, RPC, PUBLIC, "TestHub")
        install_in_process_transport(api)
        try:
            yield engine, api, df.DurableOrchestrationClient(api.binding_json())
        finally:
            uninstall_in_process_transport(api)


async def call_url(api: DurableHttpApi, method: str, url: str, body: Any = None) -> tuple[int, Any]:
    """Call a public management URL the way an HTTP server would hand it to `handle`."""
    parts = urlsplit(url)
    raw = None if body is None else json.dumps(body).encode()
    return await api.handle(method, parts.path, dict(parse_qsl(parts.query)), raw)


def http_start_function():
    return next(f for f in durable_app.FUNCTIONS if f.get_function_name() == "http_start").get_user_function()


def test_binding_json_has_the_extension_shape() -> None:
    api = DurableHttpApi(engine=_FakeEngine(), rpc_base_url=RPC.rstrip("/"), public_base_url=PUBLIC + "/",
                         task_hub="MyHub", system_key="k3y")
    binding = json.loads(api.binding_json())
    assert binding["taskHubName"] == "MyHub"
    assert binding["rpcBaseUrl"] == RPC  # trailing slash added: the SDK appends "orchestrators/..." directly
    creation = binding["creationUrls"]
    assert creation["createNewInstancePostUri"] == f"{PUBLIC}/orchestrators/{{functionName}}[/{{instanceId}}]?code=k3y"
    assert "timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}" in creation[
        "createAndWaitOnNewInstancePostUri"]
    urls = binding["managementUrls"]
    qs = "taskHub=MyHub&connection=Storage&code=k3y"
    assert urls["id"] == "INSTANCEID"
    assert urls["statusQueryGetUri"] == f"{PUBLIC}/instances/INSTANCEID?{qs}"
    assert urls["sendEventPostUri"] == f"{PUBLIC}/instances/INSTANCEID/raiseEvent/{{eventName}}?{qs}"
    assert urls["terminatePostUri"] == f"{PUBLIC}/instances/INSTANCEID/terminate?reason={{text}}&{qs}"
    assert set(urls) == {"id", "statusQueryGetUri", "sendEventPostUri", "terminatePostUri", "rewindPostUri",
                         "purgeHistoryDeleteUri", "restartPostUri", "suspendPostUri", "resumePostUri"}
    client = df.DurableOrchestrationClient(api.binding_json())
    links = client.create_http_management_payload("abc")
    assert links["statusQueryGetUri"] == f"{PUBLIC}/instances/abc?{qs}"


class _FakeEngine:
    task_hub = "Unused"
    loop = None


async def test_client_start_status_and_history(harness: Harness) -> None:
    async with durable_client(harness) as (engine, _, client):
        instance_id = await client.start_new("sequence", None, ["Ann", "Bo"])
        await engine.wait_for(instance_id)
        status = await client.get_status(instance_id, show_history=True, show_history_output=True)
        missing = await client.get_status("does-not-exist")

    assert status.runtime_status == OrchestrationRuntimeStatus.Completed
    assert status.output == ["Hello Ann!", "Hello Bo!"]
    assert status.input_ == ["Ann", "Bo"]
    assert status.name == "sequence" and status.instance_id == instance_id and status.created_time
    completed = [h for h in status.history if h["EventType"] == "TaskCompleted"]
    assert [(h["FunctionName"], h["Result"]) for h in completed] == [("hello", "Hello Ann!"), ("hello", "Hello Bo!")]
    assert not missing  # a 404 gives an empty (falsy) status, as in Azure


async def test_client_raise_event_arrives_json_encoded_twice_as_in_azure(harness: Harness) -> None:
    async with durable_client(harness) as (engine, _, client):
        instance_id = await client.start_new("approval", "http-approval")
        await engine.wait_idle()
        await client.raise_event(instance_id, "approval", {"ok": True})
        status = await engine.wait_for(instance_id)
        with pytest.raises(Exception, match="is gone"):
            await client.raise_event(instance_id, "approval", 1)
        with pytest.raises(Exception, match="No instance with ID"):
            await client.raise_event("nobody", "approval", 1)
    received = status["output"]["approval"]
    assert received == '{"ok": true}'  # a str: the SDK's json.dumps plus the transport's JSON encoding
    assert json.loads(received) == {"ok": True}


async def test_client_terminate_and_errors(harness: Harness) -> None:
    async with durable_client(harness) as (engine, _, client):
        instance_id = await client.start_new("approval")
        await engine.wait_idle()
        await client.terminate(instance_id, "no longer needed")
        status = await client.get_status(instance_id)
        await client.terminate(instance_id, "twice")  # 410 is accepted silently by the SDK
        with pytest.raises(Exception, match="doesn't exist, is disabled, or is not an orchestrator"):
            await client.start_new("not_an_orchestrator")
        running = await client.start_new("approval", "dup-http")
        await engine.wait_idle()
        with pytest.raises(Exception, match="already exists"):
            await client.start_new("approval", running)
    assert status.runtime_status == OrchestrationRuntimeStatus.Terminated
    assert status.output == "no longer needed"


async def test_client_queries_and_purge(harness: Harness) -> None:
    async with durable_client(harness) as (engine, _, client):
        done = await client.start_new("sequence", "q-done", ["x"])
        await engine.wait_for(done)
        waiting = await client.start_new("approval", "q-wait")
        await engine.wait_idle()
        everything = await client.get_status_all()
        completed = await client.get_status_by(runtime_status=[OrchestrationRuntimeStatus.Completed])
        with pytest.raises(Exception, match="412"):
            await client.purge_instance_history(waiting)
        purged = await client.purge_instance_history(done)
        purged_again = await client.purge_instance_history(done)
    assert {s.instance_id for s in everything} == {"q-done", "q-wait"}
    assert [s.instance_id for s in completed] == ["q-done"]
    assert purged.instances_deleted == 1 and purged_again.instances_deleted == 0


async def test_starter_function_returns_200_with_output_when_fast(harness: Harness) -> None:
    async with durable_client(harness) as (_, api, _client):
        request = func.HttpRequest("POST", "http://localhost:7071/api/orchestrators/sequence",
                                   body=json.dumps(["Fast"]).encode(), route_params={"name": "sequence"})
        response = await http_start_function()(req=request, client=api.binding_json())
    assert response.status_code == 200
    assert json.loads(response.get_body()) == ["Hello Fast!"]


async def test_starter_function_returns_202_with_management_urls_when_waiting(harness: Harness) -> None:
    async with durable_client(harness) as (engine, api, _client):
        request = func.HttpRequest("POST", "http://localhost:7071/api/orchestrators/approval",
                                   body=b"null", route_params={"name": "approval"}, params={"timeout_ms": "150"})
        response = await http_start_function()(req=request, client=api.binding_json())
        assert response.status_code == 202
        links = json.loads(response.get_body())
        instance_id = links["id"]
        assert response.headers["Location"] == links["statusQueryGetUri"]
        assert links["statusQueryGetUri"] == (
            f"{PUBLIC}/instances/{instance_id}?taskHub=TestHub&connection=Storage")

        running = await call_url(api, "GET", links["statusQueryGetUri"])
        sent = await call_url(api, "POST", links["sendEventPostUri"].replace("{eventName}", "approval"), "yes")
        await engine.wait_for(instance_id)
        done = await call_url(api, "GET", links["statusQueryGetUri"])
        late = await call_url(api, "POST", links["sendEventPostUri"].replace("{eventName}", "approval"), "late")

    assert running[0] == 202 and running[1]["runtimeStatus"] in ("Pending", "Running")
    assert sent == (202, None)
    assert done[0] == 200 and done[1]["output"] == {"approval": "yes"}  # a raw JSON body is not re-encoded
    assert late[0] == 410


async def test_status_codes_follow_the_extension(harness: Harness) -> None:
    async with durable_client(harness) as (engine, api, _client):
        failed = await engine.start_new("uncaught_failure", "codes-failed")
        await engine.wait_for(failed)
        terminated = await engine.start_new("approval", "codes-terminated")
        await engine.wait_idle()
        await engine.terminate(terminated, "stop")

        assert (await api.handle("GET", "instances/codes-failed", {}, None))[0] == 200
        assert (await api.handle("GET", "instances/codes-failed",
                                 {"returnInternalServerErrorOnFailure": "true"}, None))[0] == 500
        assert (await api.handle("GET", "/runtime/webhooks/durabletask/instances/codes-terminated", {}, None))[0] == 200
        assert await api.handle("GET", "instances/nobody", {}, None) == (404, None)
        assert (await api.handle("POST", "instances/codes-failed/rewind", {"reason": "x"}, None))[0] == 501
        assert (await api.handle("POST", "instances/codes-terminated/rewind", {}, None))[0] == 412
        assert (await api.handle("GET", "entities/counter/one", {}, None))[0] == 501
        assert (await api.handle("POST", "instances/codes-terminated/raiseEvent/x", {}, b'"1"'))[0] == 410
        waiting = await engine.start_new("approval", "codes-waiting")
        await engine.wait_idle()
        bad_type = await api.handle("POST", f"instances/{waiting}/raiseEvent/approval", {}, b"text",
                                    {"Content-Type": "text/plain"})
        bad_json = await api.handle("POST", f"instances/{waiting}/raiseEvent/approval", {}, b"{nope")
        suspended = await api.handle("POST", f"instances/{waiting}/suspend", {"reason": "r"}, None)
        status = await api.handle("GET", f"instances/{waiting}", {}, None)
        resumed = await api.handle("POST", f"instances/{waiting}/resume", {"reason": "r"}, None)
        unknown = await api.handle("POST", "orchestrators/ghost", {}, None)
        bad_id = await api.handle("POST", "orchestrators/approval/bad%3Fid", {}, None)
        restarted = await api.handle("POST", "instances/codes-failed/restart", {}, None)

    assert bad_type[0] == 400 and bad_json[0] == 400
    assert suspended == (202, None) and status[0] == 202 and status[1]["runtimeStatus"] == "Suspended"
    assert resumed == (202, None)
    assert unknown == (400, {"Message": "The function 'ghost' doesn't exist, is disabled, or is not an orchestrator "
                                        "function."})  # plain words: no exception type or text
    assert bad_id[0] == 400
    assert restarted[0] == 202 and restarted[1]["id"] != "codes-failed"


async def test_start_over_http_decodes_input_like_the_extension(harness: Harness) -> None:
    async with durable_client(harness) as (engine, api, _client):
        raw = await api.handle("POST", "orchestrators/sequence/raw-body", {}, json.dumps(["Curl"]).encode())
        via_sdk = await api.handle("POST", "orchestrators/sequence/sdk-body", {},
                                   json.dumps(json.dumps(["Sdk"])).encode())  # what DurableOrchestrationClient sends
        raw_status = await engine.wait_for("raw-body")
        sdk_status = await engine.wait_for("sdk-body")
        waited = await api.handle("POST", "orchestrators/sequence/waited", {"timeout": "2", "pollingInterval": "0.01"},
                                  json.dumps(["W"]).encode())
    assert raw[0] == 202 and raw[1]["id"] == "raw-body"
    assert "rewindPostUri" not in raw[1] and raw[1]["purgeHistoryDeleteUri"].startswith(f"{PUBLIC}/instances/raw-body")
    assert via_sdk[0] == 202
    assert raw_status["output"] == ["Hello Curl!"] and sdk_status["output"] == ["Hello Sdk!"]
    assert waited == (200, ["Hello W!"])


async def test_transport_leaves_other_urls_to_the_original_functions(harness: Harness,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    async def fake_get(url: str, function_invocation_id: str | None = None) -> list[Any]:
        seen.append(url)
        return [200, {"elsewhere": True}]

    async with durable_client(harness) as (_, _api, client):
        assert client_module.get_async_request is transport_module._get
        monkeypatch.setitem(transport_module._originals, "get_async_request", fake_get)
        other = df.DurableOrchestrationClient(json.dumps({
            "taskHubName": "Other", "creationUrls": {}, "managementUrls": {"id": "INSTANCEID"},
            "rpcBaseUrl": "http://127.0.0.1:17071/durabletask/"}))
        result = await other.get_status("x")
    assert seen == ["http://127.0.0.1:17071/durabletask/instances/x"]
    assert result.elsewhere is True
    assert client_module.get_async_request is transport_module._originals["get_async_request"]


async def test_client_on_another_thread_and_loop_reaches_the_engine(harness: Harness) -> None:
    async with durable_client(harness) as (engine, api, _client):
        def in_worker_thread() -> str:
            async def use_client() -> str:
                client = df.DurableOrchestrationClient(api.binding_json())
                return await client.start_new("sequence", "from-thread", ["T"])
            return asyncio.run(use_client())

        instance_id = await asyncio.to_thread(in_worker_thread)
        status = await engine.wait_for(instance_id)
    assert status["output"] == ["Hello T!"]


async def test_pathological_json_is_a_400_on_start_and_raise_event(harness: Harness) -> None:
    deep, long_number = b"[" * 5000 + b"]" * 5000, b'{"n": ' + b"7" * 5000 + b"}"
    async with durable_client(harness) as (engine, api, _client):
        waiting = await engine.start_new("approval", "json-limits")
        await engine.wait_idle()
        answers = [await api.handle("POST", "orchestrators/sequence/json-deep", {}, body) for body in (deep,
                                                                                                      long_number)]
        answers += [await api.handle("POST", f"instances/{waiting}/raiseEvent/approval", {}, body)
                    for body in (deep, long_number, b"NaN")]
        assert await engine.get_status("json-deep") is None
    assert [status for status, _ in answers] == [400] * 5
    assert "nesting deeper than" in answers[0][1]["Message"]
    assert "digits" in answers[1][1]["Message"] and "NaN" in answers[4][1]["Message"]
