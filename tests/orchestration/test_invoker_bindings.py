"""The local Durable engine's activity calls: the bindings an activity's signature asks for, on every call."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from core.devhost.durable.invoker import ActivityFailure, AppInvoker


def _activity(name: str, func, param: str = "payload"):
    trigger = SimpleNamespace(type="activityTrigger", name=param, activity=None)
    return SimpleNamespace(get_trigger=lambda: trigger, get_function_name=lambda: name,
                           get_user_function=lambda: func)


def test_an_activity_gets_a_context_on_every_call_and_its_own_input() -> None:
    seen = []

    def with_context(payload, context):
        seen.append((payload, context.function_name, context.invocation_id))
        return payload["n"] * 2

    invoker = AppInvoker([_activity("with_context", with_context)])
    results = [asyncio.run(invoker.call_activity("with_context", f'{{"n": {n}}}')) for n in (1, 2)]
    assert results == ["2", "4"]
    assert [(p, name) for p, name, _ in seen] == [({"n": 1}, "with_context"), ({"n": 2}, "with_context")]
    assert seen[0][2] != seen[1][2]  # a new invocation context each call


def test_an_activity_needing_an_unknown_binding_fails_each_time_naming_it() -> None:
    def needs_more(payload, blob):
        return payload

    invoker = AppInvoker([_activity("needs_more", needs_more)])
    for _ in range(2):
        with pytest.raises(ActivityFailure) as failure:
            asyncio.run(invoker.call_activity("needs_more", "1"))
        assert "blob" in failure.value.reason


def test_an_async_activity_without_context_is_awaited() -> None:
    async def plain(payload):
        return {"echo": payload}

    invoker = AppInvoker([_activity("plain", plain)])
    assert asyncio.run(invoker.call_activity("plain", '"x"')) == '{"echo": "x"}'
