"""The vendor webhook handlers called directly with real func.HttpRequest objects: a signed but pathological body is
a 4xx, and a replayed Shopify or Zendesk event (same body, new delivery id, fresh timestamp) publishes nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import azure.functions as func
import pytest

from core.events import catalog
from core.jsonsafe import MAX_DEPTH, MAX_NUMBER_DIGITS
from core.services import get_services

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
    yield services


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
    return get_services().events.queues.depth(catalog.queue_for("analytics"))  # every event type reaches analytics


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


def test_a_resigned_shopify_replay_publishes_nothing_and_a_real_update_still_does(signed_tenant, handlers):
    order = {"id": 5590282591684, "order_number": 1040, "email": "a@example.com",
             "updated_at": "2026-11-20T10:00:00-05:00"}
    body = json.dumps(order).encode()
    first = shopify(handlers, body, webhook_id="w-1")
    assert first.status_code == 202 and published() == 1
    retry = shopify(handlers, body, webhook_id="w-1")  # Shopify's own retry
    replay = shopify(handlers, body, webhook_id="w-forged-2")  # captured body, new webhook id, fresh timestamp
    for response in (retry, replay):
        assert response.status_code == 200 and json.loads(response.get_body())["duplicate"] is True
    assert published() == 1
    newer = json.dumps({**order, "updated_at": "2026-11-20T10:00:05-05:00"}).encode()
    assert shopify(handlers, newer, webhook_id="w-3").status_code == 202 and published() == 2


def test_shopify_bodies_without_updated_at_are_deduplicated_too(signed_tenant, handlers):
    delete = json.dumps({"id": 6650159907074, "phone": None, "addresses": []}).encode()
    assert shopify(handlers, delete, topic="customers/delete", webhook_id="d-1").status_code == 202
    assert shopify(handlers, delete, topic="customers/delete", webhook_id="d-2").status_code == 200
    tags = json.dumps({"customerId": "gid://shopify/Customer/6650159907074", "tags": ["vip"]}).encode()
    assert shopify(handlers, tags, topic="customer.tags_added", webhook_id="t-1").status_code == 202
    assert shopify(handlers, tags, topic="customer.tags_added", webhook_id="t-2").status_code == 200
    assert shopify(handlers, tags, topic="customer.tags_removed", webhook_id="t-3").status_code == 202
    assert published() == 3


def test_a_zendesk_replay_under_a_new_invocation_id_publishes_nothing(signed_tenant, handlers):
    with_id = json.dumps({"id": "evt-31", "type": "zen:event-type:ticket.created", "detail": {"id": "42"}}).encode()
    assert zendesk(handlers, with_id, invocation="inv-1").status_code == 202
    assert zendesk(handlers, with_id, invocation="inv-2").status_code == 200
    no_id = json.dumps({"type": "zen:event-type:ticket.priority_changed", "detail": {"id": "42"}}).encode()
    stamp = _now()
    assert zendesk(handlers, no_id, invocation="inv-3", stamp=stamp).status_code == 202
    assert zendesk(handlers, no_id, invocation="inv-4", stamp=stamp).status_code == 200  # same signed request
    assert published() == 2


def test_a_delivery_whose_publish_failed_is_processed_on_the_vendors_retry(signed_tenant, handlers, monkeypatch):
    body = json.dumps({"id": 77, "order_number": 1077, "updated_at": "2026-11-20T11:00:00-05:00"}).encode()
    bus = get_services().events.bus

    def unavailable(events):
        raise ConnectionError("bus unavailable")

    with monkeypatch.context() as patched:
        patched.setattr(bus, "publish", unavailable)
        with pytest.raises(ConnectionError):
            shopify(handlers, body, webhook_id="w-77")
    assert shopify(handlers, body, webhook_id="w-77").status_code == 202 and published() == 1
