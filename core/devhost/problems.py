"""Responses the local host makes itself: problem+json errors and JSON bodies, with the headers every one carries."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from starlette.responses import Response

PROBLEM = "application/problem+json"
# The host's own answers are never sniffed as another type nor kept by a cache (they can hold customers' data).
HOST_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


def status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return Response(json.dumps(body), status_code=status, media_type=PROBLEM,
                    headers={**HOST_HEADERS, **(headers or {})})


def method_not_allowed(method: str, allowed: set[str] | list[str] | tuple[str, ...]) -> Response:
    listed = ", ".join(sorted(set(allowed)))
    return problem(405, "Method not allowed", f"'{method}' is not allowed here; use {listed}.", {"Allow": listed})


def host_json(status: int, payload: Any) -> Response:
    """A JSON answer of the host (or an empty one when ``payload`` is None)."""
    if payload is None:
        return Response(status_code=status, headers=HOST_HEADERS)
    return Response(json.dumps(payload), status_code=status, media_type="application/json", headers=HOST_HEADERS)
