"""Every route under a ``{tenant}`` refuses a shop that is not registered the same way (blueprints/problems.py
``route_tenant``): 404 problem+json naming the field, before any credential or body is looked at."""

from __future__ import annotations

import asyncio
import inspect
import json
import re

import azure.functions as func
import pytest

from tests.functions.test_chat_http import BINDING

#: Routes that register a shop, so an unregistered one is what they expect (tests/unit/test_tenant_onboarding.py).
REGISTERS_TENANT = {"operator_import_tenant"}


def _tenant_routes(functions):
    for fn in functions:
        trigger = fn.get_trigger()
        if (trigger.type == "httpTrigger" and "{tenant}" in trigger.route
                and fn.get_function_name() not in REGISTERS_TENANT):
            yield fn.get_function_name(), trigger.route, trigger.methods[0], fn.get_user_function()


def _call(handler, route: str, method, tenant: str) -> func.HttpResponse:
    params = {name.split(":")[0].rstrip("?"): "abcdef123456" for name in re.findall(r"{([^}]+)}", route)}
    params["tenant"] = tenant
    req = func.HttpRequest(str(method), f"http://localhost/api/{route}", headers={}, route_params=params,
                           body=b'{"message": "hi"}')
    kwargs = {"client": BINDING} if "client" in inspect.signature(handler).parameters else {}
    result = handler(req, **kwargs)
    return asyncio.run(result) if inspect.isawaitable(result) else result


def test_every_tenant_route_is_guarded(functions):
    names = {name for name, *_ in _tenant_routes(functions)}
    assert {"chat", "get_conversation", "turn_status", "agent_reply", "operator_promotions", "conversation_trace",
            "issue_session", "audit_log", "shopify_webhook", "zendesk_webhook"} <= names


@pytest.mark.parametrize("tenant", ["no-such-shop", "Not A Tenant!"])
def test_an_unknown_tenant_is_the_same_404_everywhere(services, functions, tenant):
    for name, route, method, handler in _tenant_routes(functions):
        response = _call(handler, route, method, tenant)
        assert response.status_code == 404, name
        assert response.mimetype == "application/problem+json", name
        body = json.loads(response.get_body())
        assert body["title"] == "Unknown tenant" and body["errors"] == [{"field": "tenant", "message": "not found"}]
        assert response.headers.get("Cache-Control") == "no-store", name
