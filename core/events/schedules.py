"""Work of the timer functions (blueprints/schedules.py): each turns a schedule slot into catalog events, with
ids derived from the slot so a timer that fires twice (two instances, a retry) publishes each event once. Each
reads the tenants from ``store`` and publishes on ``bus``."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from core.config import Settings
from core.stores.ports import DocumentStore
from core.tenants import list_tenants

from . import news, operations
from .catalog import CloudEvent, new_event, stable_id
from .publisher import Bus

log = logging.getLogger("shopdesk.schedules")


def _publish(bus: Bus, events: list[CloudEvent]) -> int:
    if events:
        bus.publish(events)
    return len(events)


def promotions_tick(store: DocumentStore, bus: Bus, now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    events = []
    for tenant in list_tenants(store):
        for promo, edge in operations.promotion_transitions(store, tenant.id, now):
            events.append(new_event(tenant.id, f"scheduled.promotions.{edge}", promo.id,
                                    {"promotion_id": promo.id, "title": promo.title},
                                    event_id=stable_id("promotion", tenant.id, promo.id, edge)))
    return _publish(bus, events)


def report(store: DocumentStore, bus: Bus, period: str, now: datetime | None = None) -> int:
    day = ((now or datetime.now(UTC)) - timedelta(days=1)).date().isoformat()
    return _publish(bus, [new_event(t.id, f"scheduled.reports.{period}", day, {"period": period, "day": day},
                               event_id=stable_id("report", t.id, period, day)) for t in list_tenants(store)])


def sync_tick(store: DocumentStore, bus: Bus, settings: Settings, now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    defaults = {"products": settings.SYNC_PRODUCTS_SCHEDULE, "analytics": settings.SYNC_ANALYTICS_SCHEDULE}
    events = []
    for tenant in list_tenants(store):
        for kind, slot in operations.due_syncs(store, tenant.id, defaults, now):
            events.append(new_event(tenant.id, f"scheduled.sync.{kind}", slot, {"kind": kind, "schedule": slot},
                                    event_id=stable_id("sync", tenant.id, kind, slot)))
    return _publish(bus, events)


def news_poll(store: DocumentStore, bus: Bus, settings: Settings) -> int:
    events = []
    for tenant in list_tenants(store):
        location = news.feed_location(settings.NEWS_FEED_URL, tenant.id, tenant.integrations)
        try:
            entries = news.read_feed(location, timeout=settings.INTEGRATION_TIMEOUT_SECONDS)
        except Exception as exc:  # one tenant's broken feed must not stop the others
            log.warning("news feed unreadable tenant=%s error=%s", tenant.id, type(exc).__name__)
            continue
        for key, entry in news.unseen(store, tenant.id, entries):
            events.append(new_event(tenant.id, "company.news.published", key, entry,
                                    event_id=stable_id("news", tenant.id, key)))
    return _publish(bus, events)
