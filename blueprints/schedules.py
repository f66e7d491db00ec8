"""Timer triggers whose schedules are app settings (NCRONTAB, seconds first)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import azure.functions as func
from azure.functions.warmup import WarmUpContext  # not re-exported by azure.functions 1.26

from core.agents import analytics
from core.services import get_services
from core.tenants import list_tenants

bp = func.Blueprint()
log = logging.getLogger("shopdesk.schedules")


@bp.warm_up_trigger(arg_name="warmup")
def warm_up(warmup: WarmUpContext) -> None:
    """A new instance loads its models and indexes before it takes traffic."""
    from core.warmup import warm

    warm()


@bp.timer_trigger(arg_name="timer", schedule="%DAILY_SUMMARY_SCHEDULE%", run_on_startup=False)
def daily_summary(timer: func.TimerRequest) -> None:
    """Summarise yesterday's conversations (UTC day) for every tenant."""
    services = get_services()
    day = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    for tenant in list_tenants(services.store):
        summary = analytics.daily_summary(services.store, tenant.id, day)
        log.info("daily summary tenant=%s day=%s turns=%s", tenant.id, day, summary["turns"])
