"""Every function indexes the way the Python worker would: valid binding JSON and type annotations."""

from __future__ import annotations

import inspect
import json
import re
import typing

import pytest
from azure.functions import meta

from core.devhost.functions import index_functions
from core.devhost.routes import compile_route
from core.devhost.settings import resolve
from core.devhost.timers import Schedule

_QUEUE_NAME = re.compile(r"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")


@pytest.fixture(scope="module")
def by_name(functions):
    return {f.get_function_name(): f for f in functions}


def test_expected_functions_exist(by_name):
    for name in ("chat", "health", "conversation_turn", "understand_message",
                 "look_up", "lookup_cited_products", "escalate", "compose_and_review",
                 "fallback_response", "record_turn", "analytics_events", "analytics_pending_sweep", "daily_summary"):
        assert name in by_name, name


def test_function_json_is_valid_for_the_host(functions):
    for fn in functions:
        raw = json.loads(fn.get_function_json())
        assert raw["scriptFile"] == "function_app.py"
        triggers = [b for b in raw["bindings"] if b["type"].endswith("Trigger")]
        assert len(triggers) == 1, fn.get_function_name()
        names = [b["name"] for b in raw["bindings"]]
        assert len(names) == len(set(names))
        for binding in raw["bindings"]:
            assert binding["direction"] in ("IN", "OUT", "INOUT")
            assert meta.get_binding_registry().get(binding["type"]) is not None or binding["type"] == "http"


def test_parameters_pass_the_workers_type_checks(functions):
    registry = meta.get_binding_registry()
    for fn in functions:
        user = fn.get_user_function()
        # The durable client middleware exposes the original function; the worker checks the wrapper's hints.
        hints = typing.get_type_hints(user)
        params = inspect.signature(user).parameters
        for binding in json.loads(fn.get_function_json())["bindings"]:
            name = binding["name"]
            if name == "$return":
                continue
            assert name in params, f"{fn.get_function_name()}: no parameter {name}"
            annotation = hints.get(name)
            converter = registry.get(binding["type"])
            if annotation is not None and converter is not None and inspect.isclass(annotation):
                assert converter.check_input_type_annotation(annotation), (fn.get_function_name(), name)


def test_http_routes_compile_and_declare_methods(functions):
    for fn in functions:
        trigger = fn.get_trigger()
        if trigger.type == "httpTrigger":
            compile_route(trigger.route)
            assert trigger.methods, fn.get_function_name()


def test_timer_schedules_resolve_to_valid_ncrontab(functions):
    timers = [f for f in functions if f.get_trigger().type == "timerTrigger"]
    assert timers
    for fn in timers:
        schedule = fn.get_trigger().schedule
        assert schedule.startswith("%"), "schedules are operator settings"
        Schedule(resolve(schedule))


def test_queue_names_resolve_to_valid_storage_names(functions):
    queues = [f for f in functions if f.get_trigger().type == "queueTrigger"]
    assert queues
    for fn in queues:
        name = resolve(fn.get_trigger().queue_name)
        assert _QUEUE_NAME.match(name), name
        assert len(name) + len("-poison") <= 63


def test_local_host_indexes_everything(functions):
    specs = index_functions(functions)
    kinds = {s.trigger_type for s in specs}
    assert kinds == {"httpTrigger", "orchestrationTrigger", "activityTrigger", "queueTrigger", "timerTrigger",
                     "warmupTrigger"}


def test_orchestrator_is_exposed_as_a_handle(by_name):
    handle = by_name["conversation_turn"].get_user_function()
    assert inspect.isgeneratorfunction(handle.orchestrator_function)
