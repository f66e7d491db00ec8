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
                "scheduled.sync.products", "scheduled.sync.analytics", "company.news.published"}
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
    delivery, events = webhooks.shopify_events("demo", shopify_headers(body), body)
    assert delivery == "w-1" and events[0].type == "shopify.orders.fulfilled"
    assert events[0].subject == "tenants/demo/orders/1040"
    # One webhook delivery always maps to the same event id (dedupe across retries of the publisher).
    assert webhooks.shopify_events("demo", shopify_headers(body), body)[1][0].id == events[0].id
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
    delivery, events = webhooks.zendesk_events("demo", headers, body)
    assert delivery == "evt-1" and events[0].type == "zendesk.tickets.closed"
    kinds = {"ticket.created": "zendesk.tickets.created", "ticket.priority_changed": "zendesk.tickets.priority_changed",
             "ticket.agent_assignment_changed": "zendesk.tickets.assigned",
             "ticket.comment_added": "zendesk.tickets.updated"}
    for kind, expected in kinds.items():
        raw = json.dumps({"id": kind, "type": f"zen:event-type:{kind}", "detail": {"id": "42"},
                          "event": {"comment": {"body": "hi", "is_public": True, "author": {"is_staff": True}}}})
        assert webhooks.zendesk_events("demo", {}, raw.encode())[1][0].type == expected


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
