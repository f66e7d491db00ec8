"""The chat and health handlers called directly with real func.HttpRequest objects (bad input never reaches Durable)."""

from __future__ import annotations

import asyncio
import json

import azure.functions as func
import pytest

BINDING = json.dumps({
    "taskHubName": "TestHub",
    "creationUrls": {"createNewInstancePostUri": "http://127.0.0.1:1/x", "createAndWaitOnNewInstancePostUri": "x"},
    "managementUrls": {"id": "INSTANCEID", "statusQueryGetUri": "http://127.0.0.1:1/s"},
    "rpcBaseUrl": "http://127.0.0.1:1/runtime/webhooks/durabletask/",
})


@pytest.fixture(scope="module")
def handlers(functions):
    return {f.get_function_name(): f.get_user_function() for f in functions}


def call_chat(handlers, body, tenant="demo", headers=None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = func.HttpRequest("POST", f"http://localhost/api/tenants/{tenant}/chat", headers=headers or {},
                           route_params={"tenant": tenant}, body=raw)
    return asyncio.run(handlers["chat"](req=req, client=BINDING))


def problem_of(response):
    assert response.mimetype == "application/problem+json"
    body = json.loads(response.get_body())
    assert body["status"] == response.status_code and "Traceback" not in json.dumps(body)
    return body


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"{not json", 400, None),
        (b"", 400, None),
        ([1, 2], 422, "body"),
        ({}, 422, "message"),
        ({"message": 42}, 422, "message"),
        ({"message": "   "}, 422, "message"),
        ({"message": "hi", "colour": "red"}, 422, "colour"),
        ({"message": "hi", "conversation_id": "bad id!"}, 422, "conversation_id"),
        ({"message": "hi", "locale": "de-DE"}, 422, "locale"),
        ({"message": "hi", "customer": {"email": "not-an-email"}}, 422, "customer.email"),
        ({"message": "x" * 4097}, 413, "message"),
        ({"message": "hi", "conversation_id": "unknownconversation1"}, 401, "X-Conversation-Token"),
    ],
)
def test_bad_input_is_a_named_problem(services, handlers, body, status, field):
    response = call_chat(handlers, body)
    assert response.status_code == status
    problem = problem_of(response)
    if field:
        assert field in problem["detail"] or any(e["field"] == field for e in problem.get("errors", []))


def test_unknown_tenant_is_404(services, handlers):
    response = call_chat(handlers, {"message": "hi"}, tenant="no-such-shop")
    assert response.status_code == 404 and "no-such-shop" in problem_of(response)["detail"]


def test_bad_idempotency_key_is_rejected(services, handlers):
    response = call_chat(handlers, {"message": "hi"}, headers={"idempotency-key": "x"})
    assert response.status_code == 400 and problem_of(response)["errors"][0]["field"] == "Idempotency-Key"


def test_health_lists_tenants(services, handlers):
    response = handlers["health"](req=func.HttpRequest("GET", "http://localhost/api/health", body=b""))
    body = json.loads(response.get_body())
    assert response.status_code == 200 and "demo" in body["tenants"] and "northwind-tea" in body["tenants"]


def test_openapi_describes_chat(handlers):
    response = handlers["openapi"](req=func.HttpRequest("GET", "http://localhost/api/openapi.json", body=b""))
    spec = json.loads(response.get_body())
    assert "/tenants/{tenant}/chat" in spec["paths"] and "ChatRequest" in spec["components"]["schemas"]
