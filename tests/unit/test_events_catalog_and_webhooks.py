"""Event catalog (schemas, subjects, bicep export) and webhook signature checks / payload mapping."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.events import catalog, webhooks

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


def test_committed_bicep_catalog_equals_the_code_export():
    assert (REPO / "bicep" / "catalog.json").read_text() == catalog.export_text()


def test_every_type_has_a_schema_a_tenant_subject_and_reaches_analytics():
    required = {"shopify.customers.created", "shopify.customers.updated", "shopify.customers.deleted",
                "shopify.orders.created", "shopify.orders.paid", "shopify.orders.fulfilled", "shopify.orders.cancelled",
                "shopify.inventory.updated", "shopify.customers.tags_changed", "zendesk.tickets.created",
                "zendesk.tickets.updated", "zendesk.tickets.closed", "zendesk.tickets.priority_changed",
                "zendesk.tickets.assigned", "zendesk.satisfaction_rating.created", "scheduled.promotions.started",
                "scheduled.promotions.ended", "scheduled.reports.daily", "scheduled.reports.weekly",
                "scheduled.sync.products", "scheduled.sync.analytics", "company.news.published",
                "shopdesk.tickets.opened", "shopdesk.orders.changed", "shopdesk.returns.started"}
    assert required == set(catalog.CATALOG)
    exported = catalog.export()
    assert exported["queues"] == sorted(f"events-{a}" for a in catalog.AGENTS)
    for spec in catalog.CATALOG.values():
        assert "analytics" in spec.agents
        assert all(catalog.queue_for(a) in exported["queues"] for a in spec.agents)
    event = catalog.new_event("northwind-tea", "shopify.orders.fulfilled", "5010", {"id": 1, "order_number": 5010})
    assert event.subject == "tenants/northwind-tea/orders/5010" and event.tenantid == "northwind-tea"
    with pytest.raises(ValidationError):
        catalog.new_event("demo", "shopify.inventory.updated", "1", {"available": 3})  # no inventory_item_id
    with pytest.raises(ValidationError):
        catalog.new_event("Bad Tenant", "scheduled.sync.products", "x", {"kind": "products"})


def sign(secret: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def shopify_headers(body: bytes, secret="s3cret", at=NOW, topic="orders/fulfilled", webhook_id="w-1"):
    return {"X-Shopify-Hmac-Sha256": sign(secret, body), "X-Shopify-Triggered-At": at.isoformat(),
            "X-Shopify-Topic": topic, "X-Shopify-Webhook-Id": webhook_id}


def test_shopify_signature_window_and_mapping():
    body = json.dumps({"id": 5, "order_number": 1040, "email": "a@example.com"}).encode()
    webhooks.verify_shopify(b"s3cret", body, shopify_headers(body), tenant_id="demo", max_age=300, now=NOW)
    for headers, now in ((shopify_headers(body, secret="other"), NOW),
                         (shopify_headers(body), NOW + timedelta(seconds=301)),
                         (shopify_headers(body), NOW - timedelta(seconds=301)),
                         ({**shopify_headers(body), "X-Shopify-Triggered-At": ""}, NOW)):
        with pytest.raises(webhooks.WebhookRejected) as rejected:
            webhooks.verify_shopify(b"s3cret", body, headers, tenant_id="demo", max_age=300, now=now)
        assert rejected.value.status == 401
    tampered = body.replace(b"1040", b"1041")
    with pytest.raises(webhooks.WebhookRejected):
        webhooks.verify_shopify(b"s3cret", tampered, shopify_headers(body), tenant_id="demo", max_age=300, now=NOW)
    delivery = webhooks.shopify_events("demo", shopify_headers(body), body)
    events = delivery.events
    assert delivery.delivery_id == "w-1" and events[0].type == "shopify.orders.fulfilled"
    assert events[0].subject == "tenants/demo/orders/1040"
    # One webhook delivery always maps to the same event id (dedupe across retries of the publisher).
    assert webhooks.shopify_events("demo", shopify_headers(body), body).events[0].id == events[0].id
    with pytest.raises(webhooks.WebhookRejected) as unsupported:
        webhooks.shopify_events("demo", shopify_headers(body, topic="carts/create"), body)
    assert unsupported.value.status == 422


def test_zendesk_signature_covers_timestamp_and_body():
    body = json.dumps({"id": "evt-1", "type": "zen:event-type:ticket.status_changed", "detail": {"id": "42"},
                       "event": {"current": "SOLVED"}}).encode()
    stamp = NOW.isoformat().replace("+00:00", "Z")
    headers = {"X-Zendesk-Webhook-Signature": sign("zd", stamp.encode() + body),
               "X-Zendesk-Webhook-Signature-Timestamp": stamp}
    webhooks.verify_zendesk(b"zd", body, headers, tenant_id="demo", max_age=300, now=NOW)
    moved = {**headers, "X-Zendesk-Webhook-Signature-Timestamp": (NOW + timedelta(seconds=1)).isoformat()}
    with pytest.raises(webhooks.WebhookRejected):
        webhooks.verify_zendesk(b"zd", body, moved, tenant_id="demo", max_age=300, now=NOW)  # replayed with new stamp
    with pytest.raises(webhooks.WebhookRejected):
        webhooks.verify_zendesk(b"zd", body, headers, tenant_id="demo", max_age=300, now=NOW + timedelta(hours=1))
    delivery = webhooks.zendesk_events("demo", headers, body)
    assert delivery.delivery_id == "evt-1" and delivery.events[0].type == "zendesk.tickets.closed"
    kinds = {"ticket.created": "zendesk.tickets.created", "ticket.priority_changed": "zendesk.tickets.priority_changed",
             "ticket.agent_assignment_changed": "zendesk.tickets.assigned",
             "ticket.comment_added": "zendesk.tickets.updated"}
    for kind, expected in kinds.items():
        raw = json.dumps({"id": kind, "type": f"zen:event-type:{kind}", "detail": {"id": "42"},
                          "event": {"comment": {"body": "hi", "is_public": True, "author": {"is_staff": True}}}})
        assert webhooks.zendesk_events("demo", {}, raw.encode()).events[0].type == expected


def test_secret_names_have_the_tenant_and_missing_secrets_reject(caplog):
    env = {"SHOPIFY_WEBHOOK_SECRET_NORTHWIND_TEA": "nw"}
    assert webhooks.secret_for("SHOPIFY_WEBHOOK_SECRET_{TENANT}", "northwind-tea", env) == b"nw"
    with pytest.raises(webhooks.WebhookRejected):
        webhooks.secret_for("SHOPIFY_WEBHOOK_SECRET_{TENANT}", "demo", env)
    assert "nw" not in caplog.text


def test_claim_is_once_per_tenant_and_vendor(services):
    store = services.store
    assert webhooks.claim(store, "demo", "shopify", "w-9", 60)
    assert not webhooks.claim(store, "demo", "shopify", "w-9", 60)
    assert webhooks.claim(store, "northwind-tea", "shopify", "w-9", 60)
    assert webhooks.claim(store, "demo", "zendesk", "w-9", 60)


def _identity(topic, payload, **headers):
    body = json.dumps(payload).encode()
    return webhooks.shopify_events("demo", {**shopify_headers(body, topic=topic), **headers}, body)


@pytest.mark.parametrize(("topic", "payload", "newer"), [
    ("orders/paid", {"id": 5, "order_number": 1040, "updated_at": "2026-11-20T10:00:00-05:00"},
     {"updated_at": "2026-11-20T10:00:01-05:00"}),
    ("customers/update", {"id": 7, "email": "a@example.com", "updated_at": "2026-11-20T10:00:00-05:00"},
     {"updated_at": "2026-11-20T10:05:00-05:00"}),
    ("inventory_levels/update", {"inventory_item_id": 9, "location_id": 1, "available": 0,
                                 "updated_at": "2026-11-20T10:00:00-05:00"}, {"available": 12}),
    ("inventory_levels/update", {"inventory_item_id": 9, "location_id": 1, "available": 0,
                                 "updated_at": "2026-11-20T10:00:00-05:00"}, {"location_id": 2}),
    ("customer.tags_added", {"customerId": "gid://shopify/Customer/7", "tags": ["vip"],
                             "occurredAt": "2026-11-20T15:00:00Z"}, {"occurredAt": "2026-11-20T15:00:09Z"}),
    ("customer.tags_added", {"customerId": "gid://shopify/Customer/7", "tags": ["vip"]}, {"tags": ["vip", "b2b"]}),
])
def test_shopify_identity_is_the_event_not_the_delivery(topic, payload, newer):
    first = _identity(topic, payload)
    # The same body under a new webhook id and a fresh timestamp is the same event, with the same event id.
    replay = _identity(topic, payload, **{"X-Shopify-Webhook-Id": "w-2", "X-Shopify-Triggered-At": NOW.isoformat()})
    assert replay.delivery_id != first.delivery_id
    assert replay.identity == first.identity and replay.events[0].id == first.events[0].id
    # A real change of the resource is a new event.
    changed = _identity(topic, {**payload, **newer}, **{"X-Shopify-Webhook-Id": "w-3"})
    assert changed.identity != first.identity and changed.events[0].id != first.events[0].id


def test_another_topic_about_the_same_order_version_is_another_event():
    order = {"id": 5, "order_number": 1040, "updated_at": "2026-11-20T10:00:00-05:00"}
    assert _identity("orders/paid", order).identity != _identity("orders/fulfilled", order).identity


def test_a_deleted_customer_is_one_event_whatever_the_body():
    first = _identity("customers/delete", {"id": 7, "phone": None, "addresses": []})
    assert _identity("customers/delete", {"id": 7}, **{"X-Shopify-Webhook-Id": "w-2"}).identity == first.identity
    assert _identity("customers/delete", {"id": 8}).identity != first.identity


def test_zendesk_identity_is_the_signed_event_id_or_the_signed_message():
    with_id = json.dumps({"id": "evt-7", "type": "zen:event-type:ticket.created", "detail": {"id": "42"}}).encode()
    assert (webhooks.zendesk_events("demo", {"X-Zendesk-Webhook-Invocation-Id": "inv-1"}, with_id).identity
            == webhooks.zendesk_events("demo", {"X-Zendesk-Webhook-Invocation-Id": "inv-2"}, with_id).identity)
    no_id = json.dumps({"type": "zen:event-type:ticket.created", "detail": {"id": "42"}}).encode()

    def signed(invocation, stamp):
        return webhooks.zendesk_events("demo", {"X-Zendesk-Webhook-Invocation-Id": invocation,
                                                "X-Zendesk-Webhook-Signature-Timestamp": stamp}, no_id)

    # Without an event id, a replay of the signed request under a new invocation id is the same event; the same
    # body signed at another time (a new occurrence: the signature covers the timestamp) is another.
    assert signed("inv-1", "2026-11-20T10:00:00Z").identity == signed("inv-2", "2026-11-20T10:00:00Z").identity
    assert signed("inv-1", "2026-11-20T10:00:00Z").identity != signed("inv-3", "2026-11-20T10:00:07Z").identity


def test_claim_delivery_refuses_a_retry_and_a_replay_and_release_forgets_both(services):
    store = services.store
    body = json.dumps({"id": 5, "order_number": 1040, "updated_at": "2026-11-20T10:00:00-05:00"}).encode()
    first = webhooks.shopify_events("demo", shopify_headers(body), body)
    replay = webhooks.shopify_events("demo", shopify_headers(body, webhook_id="w-2"), body)
    assert webhooks.claim_delivery(store, "demo", "shopify", first, 60)
    assert not webhooks.claim_delivery(store, "demo", "shopify", first, 60)  # the vendor's retry
    assert not webhooks.claim_delivery(store, "demo", "shopify", replay, 60)  # same event, new delivery id
    assert webhooks.claim_delivery(store, "northwind-tea", "shopify", replay, 60)  # per tenant
    webhooks.release_delivery(store, "demo", "shopify", first)
    assert webhooks.claim_delivery(store, "demo", "shopify", first, 60)


def test_receipt_ids_stay_short_whatever_the_delivery_id(services):
    assert webhooks.claim(services.store, "demo", "shopify", "x/" * 2000, 60)
    assert all(len(doc.id) < 100 for doc in services.store.list("demo", webhooks.RECEIPTS, limit=10))
