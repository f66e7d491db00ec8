"""Host keys of the local host, as Azure has them: the function key, the master key and the Durable extension's
system key, each an app setting, presented as the ``x-functions-key`` header or the ``code`` query parameter."""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterable, Mapping

FUNCTION_KEY = "LOCAL_FUNCTION_KEY"
MASTER_KEY = "LOCAL_MASTER_KEY"
DURABLE_SYSTEM_KEY = "LOCAL_DURABLE_SYSTEM_KEY"

# Which settings open what. The master key opens everything; an empty setting opens nothing.
FUNCTION_ROUTE_KEYS = (FUNCTION_KEY, MASTER_KEY)
ADMIN_ROUTE_KEYS = (MASTER_KEY,)
DURABLE_WEBHOOK_KEYS = (DURABLE_SYSTEM_KEY, MASTER_KEY)


def presented_key(headers: Mapping[str, str], query: Mapping[str, str]) -> str:
    return headers.get("x-functions-key") or query.get("code") or ""


def key_accepted(given: str, settings: Iterable[str]) -> bool:
    """True when ``given`` equals the value of one of the (non-empty) ``settings``; compared in constant time."""
    accepted = False
    candidate = given.encode("utf-8", "surrogateescape")
    for name in settings:
        expected = os.environ.get(name, "")
        if expected and candidate and hmac.compare_digest(expected.encode("utf-8", "surrogateescape"), candidate):
            accepted = True
    return accepted


def durable_system_key() -> str | None:
    return os.environ.get(DURABLE_SYSTEM_KEY) or None
