"""Pathological JSON on the HTTP routes that parse a body (chat, operator, sessions, agent reply) and in the
operator's principal header: a 4xx problem naming the problem, never a 500 (signed webhooks: test_webhooks_http)."""

from __future__ import annotations

import asyncio
import base64
import json

import azure.functions as func
import pytest

from core import conversations
from core.jsonsafe import MAX_DEPTH, MAX_NUMBER_DIGITS

BINDING = json.dumps({
    "taskHubName": "TestHub",
    "creationUrls": {"createNewInstancePostUri": "http://127.0.0.1:1/x", "createAndWaitOnNewInstancePostUri": "x"},
    "managementUrls": {"id": "INSTANCEID", "statusQueryGetUri": "http://127.0.0.1:1/s"},
    "rpcBaseUrl": "http://127.0.0.1:1/runtime/webhooks/durabletask/",
})
DEEP = f"nesting deeper than {MAX_DEPTH}"
LONG = f"longer than {MAX_NUMBER_DIGITS} digits"
BODIES = {
    "deep array": (b"[" * 5000 + b"]" * 5000, DEEP),
    "deep object": (b'{"m":' * 1500 + b'"hi"' + b"}" * 1500, DEEP),
    "long integer": (b'{"message": "hi", "ttl_seconds": ' + b"7" * 5000 + b"}", LONG),
    "NaN": (b'{"message": "hi", "ttl_seconds": NaN}', "NaN"),
}


@pytest.fixture(scope="module")
def handlers(functions):
    return {f.get_function_name(): f.get_user_function() for f in functions}


def request(path, body, route_params, headers=None, method="POST"):
    return func.HttpRequest(method, f"http://localhost/api/{path}", headers=headers or {}, route_params=route_params,
                            body=body)


def assert_rejected(response, reason):
    assert response.status_code == 400, response.get_body()[:200]
    assert response.mimetype == "application/problem+json"
    problem = json.loads(response.get_body())
    assert problem["status"] == 400 and reason in problem["detail"]
    assert "Traceback" not in problem["detail"] and len(response.get_body()) < 1000  # no echo of the input


@pytest.mark.parametrize("case", list(BODIES))
def test_chat_answers_pathological_json_with_a_named_400(services, handlers, case):
    body, reason = BODIES[case]
    req = request("tenants/demo/chat", body, {"tenant": "demo"})
    response = asyncio.run(handlers["chat"](req=req, client=BINDING))
    assert_rejected(response, reason)
    assert json.loads(response.get_body())["errors"][0]["field"] == "body"


@pytest.mark.parametrize("case", list(BODIES))
def test_operator_routes_answer_pathological_json_with_a_named_400(services, handlers, case):
    body, reason = BODIES[case]
    assert_rejected(handlers["operator_promotions"](req=request("operator/tenants/demo/promotions", body,
                                                                {"tenant": "demo"})), reason)
    if len(body) <= 4096:  # the sessions route takes 4 KB at most
        assert_rejected(handlers["issue_session"](req=request("operator/tenants/demo/sessions", body,
                                                              {"tenant": "demo"})), reason)


@pytest.mark.parametrize("case", list(BODIES))
def test_agent_reply_answers_pathological_json_with_a_named_400(services, handlers, case):
    conversations.update(services.store, "demo", "conv-json-limits-1", lambda state: None)
    body, reason = BODIES[case]
    req = request("tenants/demo/conversations/conv-json-limits-1/agent-reply", body,
                  {"tenant": "demo", "conversation_id": "conv-json-limits-1"})
    assert_rejected(asyncio.run(handlers["agent_reply"](req=req, client=BINDING)), reason)


def test_a_pathological_principal_header_is_a_401_not_a_500(services, handlers):
    header = base64.b64encode(b"[" * 3000 + b"]" * 3000).decode()
    req = request("operator/tenants/demo/promotions", b"", {"tenant": "demo"},
                  headers={"x-ms-client-principal": header}, method="GET")
    response = handlers["operator_promotions"](req=req)
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
