"""Timer triggers whose schedules are app settings (NCRONTAB, seconds first)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import azure.functions as func
from azure.functions.warmup import WarmUpContext  # not re-exported by azure.functions 1.26

from core.agents import analytics
from core.events import schedules as event_schedules
from core.services import get_services
from core.tenants import list_tenants
from core.warmup import warm

bp = func.Blueprint()
log = logging.getLogger("shopdesk.schedules")


@bp.warm_up_trigger(arg_name="warmup")
def warm_up(warmup: WarmUpContext) -> None:
    """A new instance loads its models and indexes before it takes traffic."""
    services = get_services()
    warm(services.store, services.knowledge)


@bp.timer_trigger(arg_name="timer", schedule="%DAILY_SUMMARY_SCHEDULE%", run_on_startup=False)
def daily_summary(timer: func.TimerRequest) -> None:
    """Summarise yesterday's conversations (UTC day) for every tenant."""
    services = get_services()
    day = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    for tenant in list_tenants(services.store):
        summary = analytics.daily_summary(services.store, tenant.id, day)
        log.info("daily summary tenant=%s day=%s turns=%s", tenant.id, day, summary["turns"])


# Event-bus timers: each schedule is an app setting; the work turns schedule slots into catalog events.
@bp.timer_trigger(arg_name="timer", schedule="%PROMOTIONS_SCHEDULE%", run_on_startup=False)
def promotions_tick(timer: func.TimerRequest) -> None:
    """Start and end operator promotions whose window edge has passed."""
    services = get_services()
    log.info("promotions tick published=%d", event_schedules.promotions_tick(services.store, services.events.bus))


@bp.timer_trigger(arg_name="timer", schedule="%REPORT_DAILY_SCHEDULE%", run_on_startup=False)
def daily_report(timer: func.TimerRequest) -> None:
    services = get_services()
    log.info("daily report events=%d", event_schedules.report(services.store, services.events.bus, "daily"))


@bp.timer_trigger(arg_name="timer", schedule="%REPORT_WEEKLY_SCHEDULE%", run_on_startup=False)
def weekly_report(timer: func.TimerRequest) -> None:
    services = get_services()
    log.info("weekly report events=%d", event_schedules.report(services.store, services.events.bus, "weekly"))


@bp.timer_trigger(arg_name="timer", schedule="%SYNC_TICK_SCHEDULE%", run_on_startup=False)
def sync_tick(timer: func.TimerRequest) -> None:
    """Product and analytics syncs on each tenant's schedule (operator's, or SYNC_*_SCHEDULE)."""
    services = get_services()
    log.info("sync tick events=%d", event_schedules.sync_tick(services.store, services.events.bus,
                                                              services.settings))


@bp.timer_trigger(arg_name="timer", schedule="%NEWS_POLL_SCHEDULE%", run_on_startup=False)
def news_poll(timer: func.TimerRequest) -> None:
    """Poll each tenant's company-news feed; new items become announcements."""
    services = get_services()
    log.info("news poll events=%d", event_schedules.news_poll(services.store, services.events.bus,
                                                              services.settings))
