"""Nightly exports timer: analytics to Parquet, conversation archives to Blob (schedule: EXPORTS_SCHEDULE)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import azure.functions as func

from core.exports import run_nightly
from core.services import get_services

bp = func.Blueprint()
log = logging.getLogger("shopdesk.exports")


@bp.timer_trigger(arg_name="timer", schedule="%EXPORTS_SCHEDULE%", run_on_startup=False)
def nightly_exports(timer: func.TimerRequest) -> None:
    day = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    reports = run_nightly(get_services(), day)
    log.info("nightly exports day=%s tenants=%s turns=%s", day, len(reports), sum(r.turns_exported for r in reports))
