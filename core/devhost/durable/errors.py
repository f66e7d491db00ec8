"""Exceptions raised by the local durable engine's management API (mapped to HTTP codes by `http_api`)."""

from __future__ import annotations

__all__ = [
    "DurableError",
    "FunctionNotFoundError",
    "InstanceAlreadyExistsError",
    "InstanceNotFoundError",
    "InstanceStateError",
]


class DurableError(Exception):
    """Base class of the engine's errors."""


class FunctionNotFoundError(DurableError, ValueError):
    """The orchestrator/activity name is not registered in the function app (HTTP 400)."""


class InstanceNotFoundError(DurableError, KeyError):
    """No orchestration instance with that id (HTTP 404)."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else "instance not found"


class InstanceStateError(DurableError):
    """The instance is in a state that does not allow the operation, e.g. raising an event on a completed
    instance (HTTP 410) or purging a running one (HTTP 412)."""

    def __init__(self, message: str, runtime_status: str) -> None:
        super().__init__(message)
        self.runtime_status = runtime_status


class InstanceAlreadyExistsError(DurableError):
    """`start_new` with the id of a non-terminal instance while only non-running instances may be
    replaced (the extension's default `overridableExistingInstanceStates: NonRunningStates`) (HTTP 409)."""
