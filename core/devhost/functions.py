"""Index a function app the way the Python worker does and invoke its functions with real azure.functions types."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .routes import CompiledRoute, compile_route
from .settings import resolve

# Binding types the local host serves; anything else is reported at start-up instead of silently ignored.
SUPPORTED_TRIGGERS = {"httpTrigger", "timerTrigger", "queueTrigger", "orchestrationTrigger", "activityTrigger",
                      "warmupTrigger"}
SUPPORTED_BINDINGS = SUPPORTED_TRIGGERS | {"http", "durableClient"}


class IndexingError(RuntimeError):
    """The function app cannot be indexed; the message names the function and the problem."""


@dataclass
class FunctionSpec:
    name: str
    trigger_type: str
    trigger_name: str
    user_function: Any
    bindings: list[dict[str, Any]]
    route: CompiledRoute | None = None
    methods: tuple[str, ...] = ()
    schedule: str | None = None
    run_on_startup: bool = False
    queue_name: str | None = None
    connection: str | None = None
    durable_client_param: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.user_function)


def load_app(module: str = "function_app", app_dir: Path | None = None):
    """Import ``module`` from ``app_dir`` and return its FunctionApp/DFApp object named ``app``."""
    if app_dir is not None and str(app_dir) not in sys.path:
        sys.path.insert(0, str(app_dir))
    mod = importlib.import_module(module)
    for value in vars(mod).values():
        if hasattr(value, "get_functions") and hasattr(value, "register_functions"):
            return value
    raise IndexingError(f"module {module!r} defines no FunctionApp")


def index_functions(functions: list[Any]) -> list[FunctionSpec]:
    """Build specs from the list of ONE ``app.get_functions()`` call (a second call raises duplicate names)."""
    specs: list[FunctionSpec] = []
    seen: set[str] = set()
    for fn in functions:
        name = fn.get_function_name()
        if name in seen:
            raise IndexingError(f"function name {name!r} is registered twice")
        seen.add(name)
        raw = json.loads(fn.get_function_json())
        bindings = raw.get("bindings", [])
        for binding in bindings:
            if binding.get("type") not in SUPPORTED_BINDINGS:
                raise IndexingError(f"{name}: binding type {binding.get('type')!r} is not supported by the local host")
            if binding.get("direction") not in ("IN", "OUT", "INOUT"):
                raise IndexingError(f"{name}: binding {binding.get('name')!r} has no valid direction")
        trigger = fn.get_trigger()
        if trigger is None:
            raise IndexingError(f"{name}: no trigger")
        spec = FunctionSpec(name=name, trigger_type=trigger.type, trigger_name=trigger.name,
                            user_function=fn.get_user_function(), bindings=bindings)
        params = inspect.signature(spec.user_function).parameters
        for binding in bindings:
            if binding["name"] != "$return" and binding["name"] not in params:
                raise IndexingError(f"{name}: binding {binding['name']!r} has no matching function parameter")
            if binding["type"] == "durableClient":
                spec.durable_client_param = binding["name"]
        if trigger.type == "httpTrigger":
            route = trigger.route or name
            spec.route = compile_route(route)
            spec.methods = tuple(str(getattr(m, "value", m)).upper() for m in (trigger.methods or [])) or (
                "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
        elif trigger.type == "timerTrigger":
            spec.schedule = trigger.schedule
            spec.run_on_startup = bool(getattr(trigger, "run_on_startup", False))
        elif trigger.type == "queueTrigger":
            spec.queue_name = trigger.queue_name
            spec.connection = getattr(trigger, "connection", None) or "AzureWebJobsStorage"
        specs.append(spec)
    return specs


def resolved_queue_name(spec: FunctionSpec) -> str:
    assert spec.queue_name is not None
    return resolve(spec.queue_name).lower()


async def call_user_function(spec: FunctionSpec, **kwargs: Any) -> Any:
    """Sync functions run on a worker thread (as the Python worker does), async ones on the loop. A durable
    client binding gets the host's binding JSON, whatever the trigger."""
    binding = spec.extra.get("durable_client_binding")
    if spec.durable_client_param and binding is not None and spec.durable_client_param not in kwargs:
        kwargs[spec.durable_client_param] = binding()
    if spec.is_async:
        return await spec.user_function(**kwargs)
    return await asyncio.to_thread(spec.user_function, **kwargs)
