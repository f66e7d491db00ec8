"""The local host's HTTP front end in process: host keys on admin invocation, the Durable webhooks and HTTP routes;
every method on every path answered with problem+json; admin bodies read as bounded JSON."""

from __future__ import annotations

import json

import azure.functions as func
import pytest
from starlette.testclient import TestClient

from core.devhost.functions import index_functions
from core.devhost.http import HttpFrontEnd
from core.jsonsafe import depth

MASTER = "test-master-key"
SYSTEM = "test-durable-system-key"
FUNCTION = "test-function-key"
HOST_HEADERS = {"x-content-type-options": "nosniff", "cache-control": "no-store"}


def _app() -> func.FunctionApp:
    app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

    @app.route(route="items/{item}", methods=["GET"])
    def get_item(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(json.dumps({"item": req.route_params["item"]}), mimetype="application/json")

    @app.route(route="open", methods=["GET", "POST"], auth_level=func.AuthLevel.ANONYMOUS)
    def open_route(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("open")

    @app.route(route="keys/rotate", methods=["POST"], auth_level=func.AuthLevel.ADMIN)
    def rotate(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("rotated")

    return app


class Recorder:
    """Stands in for the host's admin invocation and the Durable HTTP API, recording what reaches them."""

    def __init__(self) -> None:
        self.invoked: list[tuple[str, str | None]] = []
        self.durable: list[tuple[str, str, bytes | None]] = []
        self.durable_answer: tuple[int, object] = (200, [{"instanceId": "demo--c1--t1", "input": "my card is..."}])

    async def admin_invoke(self, name: str, data: str | None) -> None:
        if name not in ("daily_summary", "escalations"):
            raise KeyError(name)
        self.invoked.append((name, data))

    async def durable_api(self, method: str, path: str, query: dict[str, str], body: bytes | None):
        self.durable.append((method, path, body))
        return self.durable_answer


@pytest.fixture
def keys(monkeypatch):
    monkeypatch.setenv("LOCAL_MASTER_KEY", MASTER)
    monkeypatch.setenv("LOCAL_DURABLE_SYSTEM_KEY", SYSTEM)
    monkeypatch.setenv("LOCAL_FUNCTION_KEY", FUNCTION)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def client(recorder) -> TestClient:
    front = HttpFrontEnd(index_functions(_app().get_functions()), durable_api=recorder.durable_api,
                         admin_invoke=recorder.admin_invoke)
    return TestClient(front.app, raise_server_exceptions=False)


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    for name, value in HOST_HEADERS.items():
        assert response.headers[name] == value
    body = response.json()
    assert body["status"] == status
    return body


# Admin invocation -------------------------------------------------------------------------------------------------
def test_admin_invocation_needs_the_master_key(keys, client, recorder):
    assert_problem(client.post("/admin/functions/daily_summary"), 401)
    assert_problem(client.post("/admin/functions/daily_summary", headers={"x-functions-key": FUNCTION}), 401)
    assert_problem(client.post("/admin/functions/daily_summary", headers={"x-functions-key": SYSTEM}), 401)
    assert_problem(client.post("/admin/functions/daily_summary?code=" + MASTER[:-1]), 401)
    assert recorder.invoked == []

    by_header = client.post("/admin/functions/daily_summary", headers={"x-functions-key": MASTER})
    by_query = client.post(f"/admin/functions/escalations?code={MASTER}", json={"input": "hello"})
    assert by_header.status_code == 202 and by_query.status_code == 202
    assert by_header.headers["cache-control"] == "no-store"
    assert recorder.invoked == [("daily_summary", None), ("escalations", "hello")]


def test_an_empty_master_key_setting_refuses_everything(keys, monkeypatch, client, recorder):
    monkeypatch.setenv("LOCAL_MASTER_KEY", "")
    for headers in ({}, {"x-functions-key": ""}, {"x-functions-key": MASTER}):
        assert_problem(client.post("/admin/functions/daily_summary", headers=headers), 401)
    assert_problem(client.post("/admin/functions/daily_summary?code="), 401)
    monkeypatch.delenv("LOCAL_MASTER_KEY")
    assert_problem(client.post("/admin/functions/daily_summary", headers={"x-functions-key": MASTER}), 401)
    assert recorder.invoked == []


@pytest.mark.parametrize("body, field", [
    (b"[" * 5000 + b"]" * 5000, "body"),
    (b'{"input": ' + b"[" * 5000 + b"]" * 5000 + b"}", "body"),
    (b'{"input": ' + b"9" * 5000 + b"}", "body"),
    (b'{"input": 1' + b"0" * 400 + b".5e3}", "body"),
    (b'{"input": NaN}', "body"),
    (b'{"input": "a"', "body"),
    (b"\xff\xfe\x00", "body"),
    (b'["input"]', "body"),
    (b'{"input": {"a": 1}}', "input"),
    (b'{"input": 12}', "input"),
    (b'{"input": "\\ud800"}', "input"),
    (json.dumps({"input": "x" * 60_000}).encode(), "input"),
])
def test_admin_bodies_that_are_not_acceptable_get_400_naming_the_field(keys, client, recorder, body, field):
    response = client.post("/admin/functions/escalations", content=body, headers={"x-functions-key": MASTER})
    problem = assert_problem(response, 400)
    assert problem["errors"][0]["field"] == field
    assert "Error" not in problem["detail"] and "Traceback" not in response.text
    assert recorder.invoked == []


def test_brackets_inside_strings_are_not_nesting(keys, client, recorder):
    text = "[{" * 5000 + '\\"]' * 10
    nested = {"input": text, "meta": [[[[{"n": -12.5e3, "big": 10 ** 39}]]]]}
    response = client.post("/admin/functions/escalations", json=nested, headers={"x-functions-key": MASTER})
    assert response.status_code == 202, response.text
    assert recorder.invoked == [("escalations", text)]
    assert depth(json.dumps([[1]] * 3 + [{"a": "]]]]]]"}])) == 2
    assert depth(json.dumps({"a": "\\\"[[["})) == 1


def test_admin_unknown_function_is_404_and_other_methods_405(keys, client):
    assert_problem(client.post("/admin/functions/nope", headers={"x-functions-key": MASTER}), 404)
    wrong = client.get("/admin/functions/daily_summary", headers={"x-functions-key": MASTER})
    assert assert_problem(wrong, 405) and wrong.headers["allow"] == "POST"


# Durable webhooks ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method, path", [
    ("GET", "instances"),
    ("GET", "instances/demo--c1--t1"),
    ("POST", "instances/handoff--demo--c1/raiseEvent/agent_reply"),
    ("POST", "instances/demo--c1--t1/terminate"),
    ("POST", "instances/demo--c1--t1/suspend"),
    ("POST", "instances/demo--c1--t1/resume"),
    ("POST", "instances/demo--c1--t1/restart"),
    ("POST", "instances/demo--c1--t1/rewind"),
    ("DELETE", "instances/demo--c1--t1"),
    ("DELETE", "instances"),
    ("POST", "orchestrators/conversation_turn"),
])
def test_durable_webhooks_need_the_system_or_master_key(keys, client, recorder, method, path):
    url = f"/runtime/webhooks/durabletask/{path}"
    for headers in ({}, {"x-functions-key": FUNCTION}, {"x-functions-key": SYSTEM + "x"}):
        assert_problem(client.request(method, url, headers=headers), 401)
    assert recorder.durable == []

    assert client.request(method, url, headers={"x-functions-key": SYSTEM}).status_code == 200
    assert client.request(method, f"{url}?code={SYSTEM}").status_code == 200
    assert client.request(method, url, headers={"x-functions-key": MASTER}).status_code == 200
    assert len(recorder.durable) == 3 and recorder.durable[0][:2] == (method, path)


def test_durable_webhooks_refuse_everything_when_no_key_is_set(keys, monkeypatch, client, recorder):
    monkeypatch.setenv("LOCAL_DURABLE_SYSTEM_KEY", "")
    monkeypatch.setenv("LOCAL_MASTER_KEY", "")
    for key in ("", SYSTEM, MASTER):
        assert_problem(client.get(f"/runtime/webhooks/durabletask/instances?code={key}"), 401)
    assert recorder.durable == []


@pytest.mark.parametrize("answer, detail", [
    ((400, {"Message": "The request body is not valid JSON (line 1, column 2)."}), "not valid JSON"),
    ((404, None), "No orchestration instance"),
    ((410, None), "already finished"),
    ((412, "Only orchestrations in a terminal state can be purged."), "terminal state"),
    ((501, {"Message": "Durable entities are not supported."}), "entities"),
])
def test_durable_errors_are_problems(keys, client, recorder, answer, detail):
    recorder.durable_answer = answer
    response = client.get("/runtime/webhooks/durabletask/instances/x", headers={"x-functions-key": SYSTEM})
    problem = assert_problem(response, answer[0])
    assert detail in problem["detail"]
    assert "Exception" not in response.text


def test_a_failed_instance_status_stays_json_with_500(keys, client, recorder):
    recorder.durable_answer = (500, {"runtimeStatus": "Failed", "output": "boom"})
    response = client.get("/runtime/webhooks/durabletask/instances/x?returnInternalServerErrorOnFailure=true",
                          headers={"x-functions-key": SYSTEM})
    assert response.status_code == 500 and response.headers["content-type"] == "application/json"
    assert response.json()["runtimeStatus"] == "Failed"
    assert response.headers["cache-control"] == "no-store"


# HTTP routes --------------------------------------------------------------------------------------------------------
def test_the_master_key_also_opens_function_routes_and_only_it_opens_admin_routes(keys, client):
    assert_problem(client.get("/api/items/7"), 401)
    assert client.get("/api/items/7", headers={"x-functions-key": FUNCTION}).json() == {"item": "7"}
    assert client.get(f"/api/items/7?code={MASTER}").json() == {"item": "7"}
    assert_problem(client.get("/api/items/7", headers={"x-functions-key": SYSTEM}), 401)
    assert_problem(client.post("/api/keys/rotate", headers={"x-functions-key": FUNCTION}), 401)
    assert client.post("/api/keys/rotate", headers={"x-functions-key": MASTER}).text == "rotated"
    assert client.get("/api/open").text == "open"


# Every method, every path ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path, allow", [
    ("/runtime/webhooks/durabletask/instances", "DELETE, GET, POST"),
    ("/admin/functions/daily_summary", "POST"),
    ("/api/items/7", "GET"),
    ("/api/open", "GET, POST"),
])
@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "PATCH"])
def test_unlisted_methods_get_a_problem_405_with_allow(keys, client, path, allow, method):
    response = client.request(method, path, headers={"x-functions-key": MASTER})
    assert_problem(response, 405)
    assert response.headers["allow"] == allow


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "GET", "PROPFIND"])
@pytest.mark.parametrize("path", ["/", "/nothing", "/api/nothing-here", "/runtime/webhooks/other"])
def test_unknown_paths_get_a_problem_404_whatever_the_method(client, path, method):
    assert_problem(client.request(method, path), 404)


def test_an_unexpected_host_failure_is_a_problem_without_exception_text(keys):
    async def broken(*_args):
        raise RuntimeError("secret internals: /home/app/.data/durable.sqlite")

    front = HttpFrontEnd([], durable_api=broken)
    response = TestClient(front.app, raise_server_exceptions=False).get(
        "/runtime/webhooks/durabletask/instances", headers={"x-functions-key": SYSTEM})
    assert_problem(response, 500)
    assert "secret internals" not in response.text and "RuntimeError" not in response.text
