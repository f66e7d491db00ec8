"""Local Durable Functions engine for the dev host: the SDK's own replay code, SQLite persistence, the
extension's HTTP management API and an in-process transport for `DurableOrchestrationClient`."""

from .clock import Clock, SystemClock, VirtualClock
from .engine import DurableEngine
from .errors import (
    DurableError,
    FunctionNotFoundError,
    InstanceAlreadyExistsError,
    InstanceNotFoundError,
    InstanceStateError,
)
from .http_api import DurableHttpApi
from .invoker import AppInvoker
from .store import DurableStore
from .transport import install_in_process_transport, uninstall_in_process_transport

__all__ = [
    "AppInvoker",
    "Clock",
    "DurableEngine",
    "DurableError",
    "DurableHttpApi",
    "DurableStore",
    "FunctionNotFoundError",
    "InstanceAlreadyExistsError",
    "InstanceNotFoundError",
    "InstanceStateError",
    "SystemClock",
    "VirtualClock",
    "install_in_process_transport",
    "uninstall_in_process_transport",
]
