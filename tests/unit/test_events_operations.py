"""Operator state: promotion windows, per-tenant sync schedules, announcements mentioned once, the waitlist."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from core.events import operations, waitlist
from core.models import ProductFacts

NOW = datetime(2025, 5, 1, 12, 0, 30, tzinfo=UTC)
DEFAULTS = {"products": "0 0 */6 * * *", "analytics": "0 30 1 * * *"}


def test_promotion_window_edges(services):
    store = services.store
    promo = operations.create_promotion(store, "demo", operations.PromotionIn(
        title="Mango week", starts_at=NOW - timedelta(minutes=1), ends_at=NOW + timedelta(hours=1)))
    assert [(p.id, e) for p, e in operations.promotion_transitions(store, "demo", NOW)] == [(promo.id, "started")]
    assert operations.promotion_transitions(store, "northwind-tea", NOW) == []
    operations.set_promotion_status(store, "demo", promo.id, "active")
    assert operations.promotion_transitions(store, "demo", NOW) == []
    assert [e for _, e in operations.promotion_transitions(store, "demo", NOW + timedelta(hours=2))] == ["ended"]
    with pytest.raises(ValidationError):
        operations.PromotionIn(title="x", starts_at=NOW, ends_at=NOW)


def test_sync_schedule_is_due_once_per_slot_and_per_tenant(services):
    store = services.store
    operations.set_sync_schedules(store, "demo", operations.SyncSchedulesIn(products="0 */5 * * * *"), DEFAULTS)
    stored = store.get("demo", operations.SCHEDULES, "sync").body
    stored["last_run"]["products"] = "2025-05-01T11:59:00+00:00"
    store.put("demo", operations.SCHEDULES, "sync", stored)
    due = operations.due_syncs(store, "demo", DEFAULTS, NOW)
    assert ("products", "2025-05-01T12:00:00+00:00") in due
    assert all(kind != "products" for kind, _ in operations.due_syncs(store, "demo", DEFAULTS, NOW))  # claimed
    assert [k for k, _ in operations.due_syncs(store, "demo", DEFAULTS, NOW + timedelta(minutes=5))] == ["products"]
    assert operations.get_sync_schedules(store, "northwind-tea", DEFAULTS)["products"]["custom"] is False
    with pytest.raises(ValidationError):
        operations.SyncSchedulesIn(products="*/5 * * * *")  # five fields: no seconds


def test_announcement_mentioned_once_per_conversation_in_its_language(services):
    store = services.store
    operations.publish_announcement(store, "demo", operations.AnnouncementIn(text={"en": "Closed Monday.",
                                                                                   "fr": "Fermé lundi."}))
    assert operations.mention_for(store, "demo", "c1", "fr") == "Fermé lundi."
    assert operations.mention_for(store, "demo", "c1", "fr") is None
    assert operations.mention_for(store, "demo", "c2", "es") == "Closed Monday."  # first language as fallback
    assert operations.mention_for(store, "northwind-tea", "c1", "en") is None
    expired = operations.publish_announcement(store, "demo", operations.AnnouncementIn(
        text={"en": "Old news"}, expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert expired.id not in {a.id for a in operations.active_announcements(store, "demo")}


def test_waitlist_capture_needs_an_out_of_stock_product_and_an_email(services):
    store = services.store
    soap = ProductFacts(product_id="8931343543965", doc_id="product-x", title="Charcoal", in_stock=False)
    in_stock = soap.model_copy(update={"in_stock": True})
    ask = "Can you let me know when it's back in stock?"
    assert waitlist.capture(store, "demo", "c1", ask, products=[in_stock], emails=["a@x.com"], language="en") is None
    assert waitlist.capture(store, "demo", "c1", "Is it in stock?", products=[soap], emails=["a@x.com"],
                            language="en") is None
    assert waitlist.capture(store, "demo", "c1", ask, products=[soap], emails=[], language="en")[0] == "need_email"
    assert waitlist.capture(store, "demo", "c1", ask, products=[soap], emails=["a@x.com"], language="en")[0] == "added"
    waitlist.capture(store, "demo", "c2", ask, products=[soap], emails=["A@x.com "], language="en")
    entries = waitlist.for_inventory_item(store, "demo", "48994618538544")
    assert len(entries) == 1  # one entry per product and address
    assert waitlist.for_inventory_item(store, "northwind-tea", "48994618538544") == []
