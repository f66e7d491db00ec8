"""Fixtures for the durable engine tests: async test support, a harness that opens engines on one SQLite file
with a virtual clock, and a reset of the test app's module-level state."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from core.devhost.durable import AppInvoker, DurableEngine, DurableStore, VirtualClock

from . import durable_app

ASYNC_TEST_TIMEOUT = 20.0
INVOKER = AppInvoker(durable_app.FUNCTIONS)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run `async def` tests in a fresh event loop (no pytest-asyncio in this repo)."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(asyncio.wait_for(pyfuncitem.obj(**kwargs), ASYNC_TEST_TIMEOUT))
    return True


class Harness:
    """Opens engines on one SQLite file; every engine shares the harness's virtual clock by default."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.clock = VirtualClock()
        self.invoker = INVOKER

    @asynccontextmanager
    async def engine(self, clock: Any = None, **options: Any) -> AsyncIterator[DurableEngine]:
        store = DurableStore(self.db_path, "TestHub")
        engine = DurableEngine(store, self.invoker, clock or self.clock, task_hub="TestHub", **options)
        await engine.start()
        try:
            yield engine
        finally:
            await engine.stop()
            store.close()

    @staticmethod
    def history(engine: DurableEngine, instance_id: str) -> list[dict[str, Any]]:
        return engine.store.get_history(instance_id)

    @staticmethod
    def event_types(engine: DurableEngine, instance_id: str) -> list[int]:
        return [e["EventType"] for e in engine.store.get_history(instance_id)]


@pytest.fixture(autouse=True)
def reset_app_state():
    durable_app.reset()
    yield
    durable_app.reset()


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    return Harness(tmp_path / "durable.sqlite")
