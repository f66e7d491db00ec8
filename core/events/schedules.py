"""Work of the timer functions (blueprints/schedules.py): each turns a schedule slot into catalog events, with
ids derived from the slot so a timer that fires twice (two instances, a retry) publishes each event once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from core.services import get_services
from core.tenants import list_tenants

from . import news, operations
from .catalog import CloudEvent, new_event, stable_id
from .runtime import get_events

log = logging.getLogger("shopdesk.schedules")


def _publish(events: list[CloudEvent]) -> int:
    if events:
        get_events().bus.publish(events)
    return len(events)


def promotions_tick(now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    store = get_services().store
    events = []
    for tenant in list_tenants(store):
        for promo, edge in operations.promotion_transitions(store, tenant.id, now):
            events.append(new_event(tenant.id, f"scheduled.promotions.{edge}", promo.id,
                                    {"promotion_id": promo.id, "title": promo.title},
                                    event_id=stable_id("promotion", tenant.id, promo.id, edge)))
    return _publish(events)


def report(period: str, now: datetime | None = None) -> int:
    day = ((now or datetime.now(UTC)) - timedelta(days=1)).date().isoformat()
    store = get_services().store
    return _publish([new_event(t.id, f"scheduled.reports.{period}", day, {"period": period, "day": day},
                               event_id=stable_id("report", t.id, period, day)) for t in list_tenants(store)])


def sync_tick(now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    services = get_services()
    defaults = {"products": services.settings.SYNC_PRODUCTS_SCHEDULE,
                "analytics": services.settings.SYNC_ANALYTICS_SCHEDULE}
    events = []
    for tenant in list_tenants(services.store):
        for kind, slot in operations.due_syncs(services.store, tenant.id, defaults, now):
            events.append(new_event(tenant.id, f"scheduled.sync.{kind}", slot, {"kind": kind, "schedule": slot},
                                    event_id=stable_id("sync", tenant.id, kind, slot)))
    return _publish(events)


def news_poll() -> int:
    services = get_services()
    events = []
    for tenant in list_tenants(services.store):
        location = news.feed_location(services.settings.NEWS_FEED_URL, tenant.id, tenant.integrations)
        try:
            entries = news.read_feed(location, timeout=services.settings.INTEGRATION_TIMEOUT_SECONDS)
        except Exception as exc:  # one tenant's broken feed must not stop the others
            log.warning("news feed unreadable tenant=%s error=%s", tenant.id, type(exc).__name__)
            continue
        for key, entry in news.unseen(services.store, tenant.id, entries):
            events.append(new_event(tenant.id, "company.news.published", key, entry,
                                    event_id=stable_id("news", tenant.id, key)))
    return _publish(events)
