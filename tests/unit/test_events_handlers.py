"""Agent handlers for the catalog events not covered by the story tests: tags, satisfaction, reports, syncs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.agents import analytics
from core.agents.escalation import open_ticket
from core.events import handlers
from core.events.catalog import new_event
from core.integrations.sandbox import list_outbox


@pytest.fixture
def ports(services):
    return services.handler_ports()


def test_customer_tags_changed_updates_the_customer(services, ports):
    customer = services.store.list("demo", "customers", limit=1)[0]
    event = new_event("demo", "shopify.customers.tags_changed", customer.id,
                      {"customerId": f"gid://shopify/Customer/{customer.id}", "tags": ["vip", "lang:fr"]})
    handlers.knowledge_agent(event, ports)
    assert services.store.get("demo", "customers", customer.id).body["tags"] == "vip, lang:fr"


def test_satisfaction_rating_lands_on_our_ticket(services, ports):
    ticket = open_ticket(services.store, tenant_id="demo", conversation_id="conv-csat-0001", reason="complaint",
                         language="en", transcript=[], customer=None, priority="high", created_at="2026-11-20")
    event = new_event("demo", "zendesk.satisfaction_rating.created", ticket.ticket_id,
                      {"ticket_id": ticket.ticket_id, "score": "good"})
    handlers.escalation_agent(event, ports)
    assert services.store.get("demo", "tickets", "conv-csat-0001").body["satisfaction"] == "good"


def test_daily_and_weekly_reports_are_written_per_tenant(services, ports):
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    analytics.record_event(services.store, analytics.TurnEvent(
        event_id="e1", tenant_id="demo", conversation_id="c1", at=f"{yesterday}T10:00:00+00:00", intent="shipping",
        language="fr", confidence=0.9, escalated=False, blocked=False, grounded=True, citations=1))
    for period in ("daily", "weekly"):
        handlers.analytics_agent(new_event("demo", f"scheduled.reports.{period}", yesterday,
                                           {"period": period, "day": yesterday}), ports)
        report = services.store.get("demo", "reports", f"events-{period}-{yesterday}").body
        assert report["turns"] == 1 and len(report["days"]) == (1 if period == "daily" else 7)
    assert services.store.get("northwind-tea", "reports", f"events-daily-{yesterday}") is None


def test_analytics_sync_sends_the_daily_summary_to_the_tenants_sink(services, ports):
    handlers.analytics_agent(new_event("demo", "scheduled.sync.analytics", "slot-1", {"kind": "analytics"}), ports)
    sent = list_outbox(services.store, "demo", "event")
    assert sent and sent[-1]["events"][0]["name"] == "shopdesk_daily"
    assert services.store.get("demo", "sync-runs", "analytics").body["events"] == 1
    assert list_outbox(services.store, "northwind-tea", "event") == []


def test_product_sync_records_a_run(services, ports):
    handlers.knowledge_agent(new_event("demo", "scheduled.sync.products", "slot-1", {"kind": "products"}), ports)
    assert services.store.get("demo", "sync-runs", "products").body["products"] == 50
