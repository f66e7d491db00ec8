"""The vendor webhook handlers called directly with real func.HttpRequest objects: a signed but pathological body is
a 4xx problem naming the problem, checked after the signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import azure.functions as func
import pytest

from core.events import catalog
from core.events.runtime import get_events, set_events
from core.jsonsafe import MAX_DEPTH, MAX_NUMBER_DIGITS

SHOPIFY_SECRET, ZENDESK_SECRET = "shp-test-secret", "zd-test-secret"
DEEP = f"nesting deeper than {MAX_DEPTH}"
PATHOLOGICAL = {
    "5000-deep array": (b"[" * 5000 + b"]" * 5000, DEEP),
    "1500-deep object": (b'{"a":' * 1500 + b"1" + b"}" * 1500, DEEP),
    "3000-deep value": (b'{"id": 1, "x": ' + b"[" * 3000 + b"]" * 3000 + b"}", DEEP),
    "5000-digit integer": (b'{"id": ' + b"7" * 5000 + b"}", f"longer than {MAX_NUMBER_DIGITS} digits"),
    "NaN": (b'{"id": 1, "total": NaN}', "NaN"),
}


@pytest.fixture(scope="module")
def handlers(functions):
    return {f.get_function_name(): f.get_user_function() for f in functions}


@pytest.fixture
def signed_tenant(services, monkeypatch):
    monkeypatch.setenv("SHOPIFY_WEBHOOK_SECRET_DEMO", SHOPIFY_SECRET)
    monkeypatch.setenv("ZENDESK_WEBHOOK_SECRET_DEMO", ZENDESK_SECRET)
    set_events(None)  # the bus binds to this test's store
    yield services
    set_events(None)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def shopify(handlers, body: bytes, *, topic="orders/paid", webhook_id="w-1", secret=SHOPIFY_SECRET):
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    req = func.HttpRequest("POST", "http://localhost/api/webhooks/shopify/demo", route_params={"tenant": "demo"},
                           body=body, headers={"X-Shopify-Hmac-Sha256": signature, "X-Shopify-Topic": topic,
                                               "X-Shopify-Webhook-Id": webhook_id, "X-Shopify-Triggered-At": _now()})
    return handlers["shopify_webhook"](req=req)


def zendesk(handlers, body: bytes, *, invocation="inv-1", stamp=None):
    stamp = stamp or _now()
    signature = base64.b64encode(hmac.new(ZENDESK_SECRET.encode(), stamp.encode() + body, hashlib.sha256)
                                 .digest()).decode()
    req = func.HttpRequest("POST", "http://localhost/api/webhooks/zendesk/demo", route_params={"tenant": "demo"},
                           body=body, headers={"X-Zendesk-Webhook-Signature": signature,
                                               "X-Zendesk-Webhook-Signature-Timestamp": stamp,
                                               "X-Zendesk-Webhook-Invocation-Id": invocation})
    return handlers["zendesk_webhook"](req=req)


def published() -> int:
    return get_events().queues.depth(catalog.queue_for("analytics"))  # every event type reaches analytics


def assert_problem(response, status, text):
    assert response.status_code == status, response.get_body()[:200]
    assert response.mimetype == "application/problem+json"
    problem = json.loads(response.get_body())
    assert problem["status"] == status and text in problem["detail"] and len(response.get_body()) < 1000


@pytest.mark.parametrize("case", list(PATHOLOGICAL))
def test_a_signed_pathological_body_is_a_named_400(signed_tenant, handlers, case):
    body, reason = PATHOLOGICAL[case]
    assert_problem(shopify(handlers, body), 400, reason)
    assert_problem(zendesk(handlers, body), 400, reason)
    assert published() == 0


def test_the_signature_is_checked_before_the_body_is_parsed(signed_tenant, handlers):
    body = PATHOLOGICAL["5000-deep array"][0]
    assert shopify(handlers, body, secret="not-the-secret").status_code == 401


@pytest.mark.parametrize(("payload", "field"), [
    ({"id": "evt-9", "type": "zen:event-type:ticket.created", "detail": [1, 2]}, "detail"),
    ({"id": "evt-9", "type": "zen:event-type:ticket.comment_added", "detail": {"id": "42"}, "event": "x"}, "event"),
    ({"id": "evt-9", "type": "zen:event-type:ticket.comment_added", "detail": {"id": "42"},
      "event": {"comment": {"body": "hi", "author": "Ann"}}}, "event.comment.author"),
])
def test_a_signed_zendesk_body_of_the_wrong_shape_is_a_422_naming_the_field(signed_tenant, handlers, payload, field):
    assert_problem(zendesk(handlers, json.dumps(payload).encode()), 422, field)
