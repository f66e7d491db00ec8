"""Timer triggers: NCRONTAB (6 fields, seconds first) or TimeSpan schedules, with ``%SETTING%`` resolved."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from azure.functions.timer import TimerRequest
from croniter import croniter

from .functions import FunctionSpec, call_user_function
from .settings import resolve

log = logging.getLogger("shopdesk.devhost.timers")
_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$")


class ScheduleError(ValueError):
    pass


class Schedule:
    """Next occurrences of an NCRONTAB expression (``sec min hour day month dow``) or a TimeSpan interval."""

    def __init__(self, expression: str):
        self.expression = expression.strip()
        span = _TIMESPAN.match(self.expression)
        self.interval: timedelta | None = None
        if span:
            days, hours, minutes, seconds = (int(g or 0) for g in span.groups())
            self.interval = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
            if self.interval <= timedelta(0):
                raise ScheduleError(f"timer interval {expression!r} must be positive")
            return
        if len(self.expression.split()) != 6:
            raise ScheduleError(f"NCRONTAB {expression!r} needs 6 fields (seconds first)")
        if not croniter.is_valid(self.expression, second_at_beginning=True):
            raise ScheduleError(f"invalid NCRONTAB expression {expression!r}")

    def next_after(self, moment: datetime) -> datetime:
        if self.interval is not None:
            return moment + self.interval
        return croniter(self.expression, moment, ret_type=datetime, second_at_beginning=True).get_next(datetime)


class TimerRunner:
    def __init__(self, spec: FunctionSpec, now: Callable[[], datetime] = lambda: datetime.now(UTC)):
        assert spec.schedule is not None
        self.spec = spec
        self.schedule = Schedule(resolve(spec.schedule))
        self._now = now
        self.last_run: datetime | None = None

    async def fire(self, past_due: bool = False) -> None:
        now = self._now()
        request = TimerRequest(past_due=past_due, schedule_status={
            "Last": self.last_run.isoformat() if self.last_run else None,
            "Next": self.schedule.next_after(now).isoformat(),
        }, schedule={"AdjustForDST": True})
        self.last_run = now
        try:
            await call_user_function(self.spec, **{self.spec.trigger_name: request})
        except Exception:
            log.exception("timer function %s failed", self.spec.name)

    async def run_forever(self) -> None:
        if self.spec.run_on_startup:
            await self.fire()
        while True:
            due = self.schedule.next_after(self._now())
            await asyncio.sleep(max(0.0, (due - self._now()).total_seconds()))
            late = (self._now() - due).total_seconds() > 60
            await self.fire(past_due=late)
