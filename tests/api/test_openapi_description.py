"""The served OpenAPI description: valid OpenAPI 3.1, the same document core.openapi builds, one operation for every
route of the app, and the answers the fuzzer rarely reaches (a whole conversation, signed webhooks, the operator
API's successes) checked against it on the app in process."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.openapi import build_openapi

from .inprocess import function_key, http_routes

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
KEY = {"x-functions-key": function_key()}
OPERATOR = "/operator/tenants/{tenant}"
TURN_STATUS = ("GET", "/tenants/{tenant}/conversations/{conversation_id}/turns/{turn_id}")


@pytest.fixture(scope="module")
def served(api_app):
    """The description the app serves, loaded by schemathesis (the app in process answers its cases)."""
    config = SchemathesisConfig.from_dict({"seed": 1, "generation": {"database": "none"}})
    return schemathesis.openapi.from_asgi("/api/openapi.json", api_app, config=config)


def call(served, method: str, path: str, *, status: int, tenant: str = "demo", headers=None, body=None,
         validate: bool = True, **path_parameters):
    """Send one request, check its answer against the description and return the JSON body (or None)."""
    case = served[path][method].Case(path_parameters={"tenant": tenant, **path_parameters}, headers=headers or {},
                                     **({} if body is None else {"body": body}))
    response = case.call_and_validate(checks=CHECKS) if validate else case.call()
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def test_the_served_description_is_valid_openapi_31_and_the_built_one(served):
    served.validate()  # the OpenAPI 3.1 meta-schema
    assert served.raw_schema == build_openapi()
    assert all(isinstance(result, Ok) for result in served.get_all_operations())


def test_every_route_of_the_app_is_described(api_app):
    described = {(method.upper(), path) for path, item in build_openapi()["paths"].items() for method in item}
    undescribed = http_routes(api_app.state.specs) - described
    assert not undescribed, f"routes missing from core/openapi.py: {sorted(undescribed)}"


@pytest.mark.parametrize("operation", sorted(
    (method.upper(), path) for path, item in build_openapi()["paths"].items() for method in item), ids=" ".join)
def test_every_described_operation_is_a_route(api_app, operation):
    assert operation in http_routes(api_app.state.specs)


def test_security_schemes_cover_function_keys_and_chat_credentials():
    doc = build_openapi()
    schemes = doc["components"]["securitySchemes"]
    assert schemes["functionKey"] == {**schemes["functionKey"], "type": "apiKey", "in": "header",
                                      "name": "x-functions-key"}
    assert schemes["functionKeyQuery"]["in"] == "query" and schemes["functionKeyQuery"]["name"] == "code"
    assert schemes["tenantKey"]["name"] == "X-Tenant-Key" and schemes["sessionToken"]["scheme"] == "bearer"
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            needs_key = path.startswith("/operator/") or path.endswith("/agent-reply")
            assert ({"functionKey": []} in operation["security"]) is needs_key, (method, path)
            if needs_key:
                assert "401" in operation["responses"], (method, path)
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert list(response["content"]) == ["application/problem+json"], (method, path, status)


def test_a_conversation_answers_as_described(served):
    reply = call(served, "POST", "/tenants/{tenant}/chat", status=200,
                 body={"message": "Is the organic mango soap in stock?"}, validate=False)
    conversation = reply["conversation_id"]
    token = {"X-Conversation-Token": reply.get("conversation_token", "none-yet")}
    view = call(served, "GET", "/tenants/{tenant}/conversations/{conversation_id}", status=200, headers=token,
                conversation_id=conversation)
    assert [t["user"] for t in view["turns"]] == ["Is the organic mango soap in stock?"]
    accepted = call(served, "POST", "/tenants/{tenant}/conversations/{conversation_id}/agent-reply", status=202,
                    headers=KEY, body={"message": "It ships Monday.", "agent": "sam"}, conversation_id=conversation)
    assert accepted == {"accepted": True, "delivery": "direct"}
    view = call(served, "GET", "/tenants/{tenant}/conversations/{conversation_id}", status=200, headers=token,
                conversation_id=conversation)
    assert [m["text"] for m in view["agent_messages"]] == ["It ships Monday."]
    trace = call(served, "GET", OPERATOR + "/conversations/{conversation}/trace", status=200, headers=KEY,
                 conversation=conversation)
    assert trace["conversation_id"] == conversation
    call(served, "GET", "/tenants/{tenant}/conversations/{conversation_id}", status=403, headers=token,
         tenant="northwind-tea", conversation_id=conversation)  # a token of another shop


def test_a_chat_reply_carries_its_conversation_token(served):
    call(served, "POST", "/tenants/{tenant}/chat", status=200, body={"message": "Do you ship to Canada?"})


def test_a_slow_turn_answers_202_as_described(served, api_services):
    settings = api_services.settings
    api_services.settings = settings.model_copy(update={"CHAT_WAIT_TIMEOUT_MS": 0})
    try:
        call(served, "POST", "/tenants/{tenant}/chat", status=202, body={"message": "Where is my order?"})
    finally:
        api_services.settings = settings


def test_a_line_break_in_a_path_segment_is_a_problem_404(served):
    response = served["/health"]["GET"].Case().call(base_url="http://testserver/api%0A")
    assert response.status_code == 404
    assert response.headers["content-type"][0].startswith("application/problem+json")


def test_the_operator_api_answers_as_described(served):
    start = datetime.now(UTC) + timedelta(days=1)
    promotion = call(served, "POST", OPERATOR + "/promotions", status=201, headers=KEY,
                     body={"title": "Spring sale", "discount_percent": 15, "starts_at": start.isoformat(),
                           "ends_at": (start + timedelta(days=7)).isoformat()})
    listed = call(served, "GET", OPERATOR + "/promotions", status=200, headers=KEY)
    assert promotion["id"] in [p["id"] for p in listed["promotions"]]
    cancelled = call(served, "DELETE", OPERATOR + "/promotions/{promotion_id}", status=200, headers=KEY,
                     promotion_id=promotion["id"])
    assert cancelled["status"] == "cancelled"
    call(served, "DELETE", OPERATOR + "/promotions/{promotion_id}", status=404, headers=KEY, promotion_id="nope")

    announcement = call(served, "POST", OPERATOR + "/announcements", status=201, headers=KEY,
                        body={"text": {"en": "Closed Monday", "fr": "Fermé lundi"}})
    assert announcement["id"] in [a["id"] for a in call(served, "GET", OPERATOR + "/announcements", status=200,
                                                        headers=KEY)["announcements"]]
    call(served, "DELETE", OPERATOR + "/announcements/{announcement_id}", status=204, headers=KEY,
         announcement_id=announcement["id"])
    call(served, "DELETE", OPERATOR + "/announcements/{announcement_id}", status=404, headers=KEY,
         announcement_id=announcement["id"])

    call(served, "GET", OPERATOR + "/sync-schedules", status=200, headers=KEY)
    schedules = call(served, "PUT", OPERATOR + "/sync-schedules", status=200, headers=KEY,
                     body={"products": "0 */30 * * * *"})
    assert schedules["products"] == {**schedules["products"], "schedule": "0 */30 * * * *", "custom": True}

    call(served, "GET", OPERATOR + "/dead-letters", status=200, headers=KEY)
    call(served, "POST", OPERATOR + "/dead-letters/replay", status=202, headers=KEY, body={})
    call(served, "POST", OPERATOR + "/events/replay", status=202, headers=KEY,
         body={"from": "2026-01-01T00:00:00Z", "to": datetime.now(UTC).isoformat(), "agents": ["analytics"]})
    call(served, "GET", OPERATOR + "/events/stats", status=200, headers=KEY)
    call(served, "GET", OPERATOR + "/audit", status=200, headers=KEY)
    session = call(served, "POST", OPERATOR + "/sessions", status=201, headers=KEY,
                   body={"ttl_seconds": 120, "customer_ref": "cust-42"})
    assert session["token_type"] == "Bearer" and session["expires_in"] == 120


def test_the_operator_api_refuses_without_a_function_key(served):
    for method, path in (("GET", OPERATOR + "/promotions"), ("GET", OPERATOR + "/audit"),
                         ("POST", OPERATOR + "/sessions")):
        call(served, method, path, status=401)
    call(served, "GET", OPERATOR + "/promotions", status=401, headers={"x-functions-key": "wrong"})


def _sign(secret: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def test_signed_webhooks_answer_as_described(served):
    body = {"id": 5, "order_number": 1040, "email": "a@example.com"}
    raw = json.dumps(body).encode()
    shopify = {"X-Shopify-Hmac-Sha256": _sign(os.environ["SHOPIFY_WEBHOOK_SECRET_DEMO"], raw),
               "X-Shopify-Topic": "orders/paid", "X-Shopify-Webhook-Id": "api-description-1",
               "X-Shopify-Triggered-At": datetime.now(UTC).isoformat()}
    accepted = call(served, "POST", "/webhooks/shopify/{tenant}", status=202, headers=shopify, body=body)
    assert [e["type"] for e in accepted["events"]] == ["shopify.orders.paid"]
    assert call(served, "POST", "/webhooks/shopify/{tenant}", status=200, headers=shopify, body=body) == {
        "accepted": True, "duplicate": True}
    call(served, "POST", "/webhooks/shopify/{tenant}", status=401,
         headers={**shopify, "X-Shopify-Hmac-Sha256": _sign("wrong", raw)}, body=body)

    event = {"id": "api-description-zd-1", "type": "zen:event-type:ticket.status_changed", "detail": {"id": "42"},
             "event": {"current": "SOLVED"}}
    stamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    zendesk = {"X-Zendesk-Webhook-Signature": _sign(os.environ["ZENDESK_WEBHOOK_SECRET_DEMO"],
                                                    stamp.encode() + json.dumps(event).encode()),
               "X-Zendesk-Webhook-Signature-Timestamp": stamp}
    accepted = call(served, "POST", "/webhooks/zendesk/{tenant}", status=202, headers=zendesk, body=event)
    assert [e["type"] for e in accepted["events"]] == ["zendesk.tickets.closed"]


def test_the_descriptions_own_models_keep_the_fields_of_what_the_routes_use():
    """core/openapi_models.py restates a few shapes that live in route code or carry more than the API shows."""
    from blueprints import operator
    from core import openapi_models as api
    from core.conversations import AgentMessage
    from core.models import ChatRequest

    def fields(model):
        return {(info.alias or name, info.is_required()) for name, info in model.model_fields.items()}

    assert fields(api.DeadLetterReplay) == fields(operator.DeadLetterReplay)
    assert fields(api.RangeReplay) == fields(operator.RangeReplay)
    assert {name for name, _ in fields(api.AgentMessageView)} == set(AgentMessage.model_fields) - {"id"}
    assert fields(ChatRequest) <= fields(api.ChatRequest)
