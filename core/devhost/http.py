"""ASGI front end: ``/api/*`` HTTP triggers, the Durable HTTP API, and admin invocation of non-HTTP functions."""

from __future__ import annotations

import hmac
import json
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

import azure.functions as func
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core import jsonsafe

from .functions import FunctionSpec, call_user_function

log = logging.getLogger("shopdesk.devhost.http")
PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return Response(json.dumps(body), status_code=status, media_type=PROBLEM)


def to_starlette(result: Any) -> Response:
    if isinstance(result, func.HttpResponse):
        headers = {k: v for k, v in result.headers.items() if k.lower() != "content-length"}
        media_type = result.mimetype
        if "content-type" not in {k.lower() for k in headers} and media_type:
            headers["Content-Type"] = f"{media_type}; charset={result.charset}" if media_type.startswith("text/") \
                else media_type
        return Response(result.get_body(), status_code=result.status_code, headers=headers)
    if result is None:
        return Response(status_code=204)
    if isinstance(result, (bytes, str)):
        return Response(result, status_code=200)
    return JSONResponse(result)


def auth_level(spec: FunctionSpec) -> str:
    for binding in spec.bindings:
        if binding.get("type") == "httpTrigger":
            return str(binding.get("authLevel", "FUNCTION")).upper()
    return "ANONYMOUS"


def check_function_key(spec: FunctionSpec, request: Request) -> Response | None:
    """As Azure does: FUNCTION and ADMIN routes need a key (``x-functions-key`` header or ``code`` query); locally
    the one key is the ``LOCAL_FUNCTION_KEY`` app setting. ANONYMOUS routes stay open."""
    if auth_level(spec) == "ANONYMOUS":
        return None
    expected = os.environ.get("LOCAL_FUNCTION_KEY", "")
    given = request.headers.get("x-functions-key") or request.query_params.get("code") or ""
    if expected and given and hmac.compare_digest(expected.encode(), given.encode()):
        return None
    return problem(401, "Unauthorized", "This function needs a function key (x-functions-key header or code query).")


class HttpFrontEnd:
    def __init__(self, specs: list[FunctionSpec], *, route_prefix: str = "api",
                 durable_client_binding: Callable[[], str] | None = None,
                 durable_api: Callable[[str, str, dict[str, str], bytes | None], Awaitable[tuple[int, Any]]]
                 | None = None,
                 admin_invoke: Callable[[str, str | None], Awaitable[None]] | None = None):
        self.http_specs = sorted((s for s in specs if s.trigger_type == "httpTrigger"),
                                 key=lambda s: s.route.literal_weight if s.route else 0, reverse=True)
        self.prefix = route_prefix.strip("/")
        self.durable_client_binding = durable_client_binding
        self.durable_api = durable_api
        self.admin_invoke = admin_invoke
        self.app = Starlette(routes=[
            Route("/runtime/webhooks/durabletask/{path:path}", self._durable,
                  methods=["GET", "POST", "DELETE"]),
            Route("/admin/functions/{name}", self._admin, methods=["POST"]),
            Route("/{path:path}", self._dispatch, methods=["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD",
                                                            "OPTIONS"]),
        ])

    async def _dispatch(self, request: Request) -> Response:
        path = request.url.path.strip("/")
        if self.prefix:
            if path != self.prefix and not path.startswith(self.prefix + "/"):
                return problem(404, "Not found", f"No function serves '/{path}'.")
            path = path[len(self.prefix):].strip("/")
        allowed: list[str] = []
        for spec in self.http_specs:
            assert spec.route is not None
            params = spec.route.match(path)
            if params is None:
                continue
            if request.method not in spec.methods:
                allowed.extend(spec.methods)
                continue
            return await self._invoke(spec, request, params)
        if allowed:
            response = problem(405, "Method not allowed",
                               f"'{request.method}' is not allowed here; use {', '.join(sorted(set(allowed)))}.")
            response.headers["Allow"] = ", ".join(sorted(set(allowed)))
            return response
        return problem(404, "Not found", f"No function serves '/{request.url.path.strip('/')}'.")

    async def _invoke(self, spec: FunctionSpec, request: Request, params: dict[str, str]) -> Response:
        denied = check_function_key(spec, request)
        if denied is not None:
            return denied
        body = await request.body()
        req = func.HttpRequest(
            method=request.method, url=str(request.url), headers=dict(request.headers),
            params=dict(request.query_params), route_params=params, body=body,
        )
        kwargs: dict[str, Any] = {spec.trigger_name: req}
        if spec.durable_client_param and self.durable_client_binding:
            kwargs[spec.durable_client_param] = self.durable_client_binding()
        try:
            result = await call_user_function(spec, **kwargs)
        except Exception:
            # As in Azure, an unhandled exception is a 500 with no exception text in the body.
            log.exception("function %s failed", spec.name)
            return problem(500, "Internal error", "The function failed; see the host log.")
        return to_starlette(result)

    async def _durable(self, request: Request) -> Response:
        if self.durable_api is None:
            return problem(404, "Not found", "Durable Functions are not enabled in this app.")
        body = await request.body()
        status, payload = await self.durable_api(
            request.method, request.path_params["path"], dict(request.query_params), body or None)
        if payload is None:
            return Response(status_code=status)
        return JSONResponse(payload, status_code=status)

    async def _admin(self, request: Request) -> Response:
        if self.admin_invoke is None:
            return problem(404, "Not found", "Admin invocation is not enabled.")
        name = request.path_params["name"]
        raw = await request.body()
        data = None
        if raw:
            try:
                parsed = jsonsafe.loads(raw)
            except jsonsafe.JsonRejected as exc:
                return problem(400, "Malformed JSON", f"Body must be JSON like {{\"input\": \"...\"}}: {exc}.")
            data = parsed.get("input") if isinstance(parsed, dict) else None
        try:
            await self.admin_invoke(name, data)
        except KeyError:
            return problem(404, "Unknown function", f"No timer or queue function named '{name}'.")
        return Response(status_code=202)
