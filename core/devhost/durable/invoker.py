"""Calls orchestrator and activity functions the way the Python worker does.

Build it from the list returned by ONE call of `app.get_functions()` (a second call on the same app raises a
duplicate-name error; share the list with the rest of the dev host). Orchestrators (`orchestrationTrigger`)
are called with an `azure.functions.OrchestrationContext` wrapping the context JSON, exactly what the worker
passes, and return the state JSON text. Activities (`activityTrigger`) receive their input decoded by
`ActivityTriggerConverter` under the trigger's parameter name; their return value is encoded by the same
converter. Sync activities run in a worker thread (`asyncio.to_thread`), async ones are awaited.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from azure.functions import Context
from azure.functions._durable_functions import OrchestrationContext
from azure.functions.durable_functions import ActivityTriggerConverter
from azure.functions.meta import Datum

from .errors import FunctionNotFoundError

__all__ = ["ActivityFailure", "AppInvoker", "RegisteredFunction"]

ORCHESTRATION_TRIGGER = "orchestrationTrigger"
ACTIVITY_TRIGGER = "activityTrigger"


@dataclass(frozen=True)
class RegisteredFunction:
    name: str  # durable name (orchestration/activity override, else the function name)
    function_name: str
    trigger_param: str
    func: Callable[..., Any]


class ActivityFailure(Exception):
    """An activity raised; carries the DTFx `TaskFailed` reason and details."""

    def __init__(self, reason: str, details: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


class _InvocationContext(Context):
    """Minimal `func.Context` for activities that declare a `context` parameter."""

    def __init__(self, function_name: str) -> None:
        self._invocation_id = str(uuid.uuid4())
        self._function_name = function_name
        self._tls = threading.local()

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def thread_local_storage(self) -> Any:
        return self._tls

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return ""

    @property
    def trace_context(self) -> Any:
        return None

    @property
    def retry_context(self) -> Any:
        return None


def _trigger_attr(trigger: Any, attr: str) -> Any:
    value = getattr(trigger, attr, None)
    if value is None and hasattr(trigger, "get_dict_repr"):
        value = trigger.get_dict_repr().get(attr)
    return value


class AppInvoker:
    """Maps durable names to user functions of one function app."""

    def __init__(self, functions: Iterable[Any]) -> None:
        self.orchestrators: dict[str, RegisteredFunction] = {}
        self.activities: dict[str, RegisteredFunction] = {}
        self._signatures: dict[str, tuple[Callable[..., Any], bool, tuple[str, ...]]] = {}
        for fn in functions:
            trigger = fn.get_trigger()
            trigger_type = getattr(trigger, "type", None)
            if trigger_type == ORCHESTRATION_TRIGGER:
                registry, override = self.orchestrators, _trigger_attr(trigger, "orchestration")
            elif trigger_type == ACTIVITY_TRIGGER:
                registry, override = self.activities, _trigger_attr(trigger, "activity")
            else:
                continue
            function_name = fn.get_function_name()
            name = override or function_name
            if name in registry:
                raise ValueError(f"two {trigger_type} functions are registered as {name!r}")
            registry[name] = RegisteredFunction(name, function_name, trigger.name, fn.get_user_function())

    # -- orchestrators --------------------------------------------------------------------------------------
    def has_orchestrator(self, name: str) -> bool:
        return name in self.orchestrators

    def orchestrator_not_found(self, name: str) -> FunctionNotFoundError:
        known = ", ".join(f"'{n}'" for n in sorted(self.orchestrators)) or "(none)"
        return FunctionNotFoundError(
            f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator function. "
            f"Additional info: The following are the known orchestrator functions: {known}."
        )

    def call_orchestrator(self, name: str, context_json: str) -> str:
        """Run one episode: context JSON in, orchestrator state JSON out (raises what the SDK raises)."""
        registered = self.orchestrators.get(name)
        if registered is None:
            raise self.orchestrator_not_found(name)
        result = registered.func(OrchestrationContext(context_json))
        if isinstance(result, bytes):
            result = result.decode("utf-8")
        return result

    # -- activities -----------------------------------------------------------------------------------------
    async def call_activity(self, name: str, input_json: str | None) -> str:
        """Run an activity; returns its output as JSON text or raises `ActivityFailure`."""
        registered = self.activities.get(name)
        if registered is None:
            known = ", ".join(f"'{n}'" for n in sorted(self.activities)) or "(none)"
            raise ActivityFailure(
                f"The activity function '{name}' doesn't exist, is disabled, or is not an activity function. "
                f"Additional info: The following are the known activity functions: {known}.",
                "",
            )
        try:
            value = ActivityTriggerConverter.decode(
                Datum(input_json if input_json is not None else "null", "json"), trigger_metadata=None
            )
            kwargs = self._activity_kwargs(registered, value)
            if inspect.iscoroutinefunction(registered.func):
                result = await registered.func(**kwargs)
            else:
                result = await asyncio.to_thread(registered.func, **kwargs)
                if inspect.isawaitable(result):
                    result = await result
            return ActivityTriggerConverter.encode(result, expected_type=None).value
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # every activity error becomes TaskFailed
            message = f"{type(exc).__name__}: {exc}"
            details = "".join(traceback.format_exception(exc)).strip()
            raise ActivityFailure(f"Activity function '{name}' failed: {message}", details) from exc

    def _activity_kwargs(self, registered: RegisteredFunction, value: Any) -> dict[str, Any]:
        kwargs: dict[str, Any] = {registered.trigger_param: value}
        wants_context, missing = self._bindings(registered)
        if wants_context:
            kwargs["context"] = _InvocationContext(registered.function_name)
        if missing:
            raise TypeError(
                f"activity '{registered.name}' needs bindings the local durable engine does not provide: "
                f"{', '.join(missing)}"
            )
        return kwargs

    def _bindings(self, registered: RegisteredFunction) -> tuple[bool, tuple[str, ...]]:
        """Whether the activity takes a ``context`` and the parameters no binding fills, read from its signature
        once per function."""
        found = self._signatures.get(registered.name)
        if found is not None and found[0] is registered.func:
            return found[1], found[2]
        try:
            params = inspect.signature(registered.func).parameters
        except (TypeError, ValueError):
            wants_context, missing = False, ()
        else:
            names = {registered.trigger_param}
            wants_context = "context" in params and registered.trigger_param != "context"
            if wants_context:
                names.add("context")
            missing = tuple(
                p.name for p in params.values()
                if p.name not in names and p.default is inspect.Parameter.empty
                and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
            )
        self._signatures[registered.name] = (registered.func, wants_context, missing)
        return wants_context, missing
