"""ASGI front end: ``/api/*`` HTTP triggers, the Durable HTTP API, and admin invocation of non-HTTP functions."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import azure.functions as func
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, request_response
from starlette.types import Receive, Scope, Send

from core import jsonsafe

from .functions import FunctionSpec, call_user_function
from .keys import ADMIN_ROUTE_KEYS, DURABLE_WEBHOOK_KEYS, FUNCTION_ROUTE_KEYS, key_accepted, presented_key
from .problems import PROBLEM, host_json, method_not_allowed, problem, status_phrase

__all__ = ["PROBLEM", "HttpFrontEnd", "auth_level", "check_function_key", "problem", "to_starlette"]

log = logging.getLogger("shopdesk.devhost.http")
DURABLE_METHODS = ("GET", "POST", "DELETE")
ADMIN_METHODS = ("POST",)
# A queue message holds 64 KiB once base64-encoded.
MAX_ADMIN_INPUT_BYTES = 48 * 1024
_DURABLE_DETAILS = {
    404: "No orchestration instance or Durable management operation at this URL.",
    410: "The orchestration instance has already finished.",
}


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


def _key_denied(request: Request, settings: tuple[str, ...], detail: str) -> Response | None:
    if key_accepted(presented_key(request.headers, request.query_params), settings):
        return None
    return problem(401, "Unauthorized", detail)


def check_function_key(spec: FunctionSpec, request: Request) -> Response | None:
    """As Azure does: FUNCTION routes need the function key (``LOCAL_FUNCTION_KEY``) or the master key
    (``LOCAL_MASTER_KEY``), ADMIN routes the master key; ANONYMOUS routes stay open."""
    level = auth_level(spec)
    if level == "ANONYMOUS":
        return None
    if level == "ADMIN":
        return _key_denied(request, ADMIN_ROUTE_KEYS,
                           "This function needs the master key (x-functions-key header or code query).")
    return _key_denied(request, FUNCTION_ROUTE_KEYS,
                       "This function needs a function key (x-functions-key header or code query).")


def durable_response(status: int, payload: Any) -> Response:
    """An answer of the Durable HTTP API: JSON, or problem+json when it is an error the host reports."""
    if status < 400 or (isinstance(payload, dict) and "runtimeStatus" in payload):
        # A failed instance's status stays the status JSON, also when returnInternalServerErrorOnFailure makes it 500.
        return host_json(status, payload)
    if isinstance(payload, dict) and isinstance(payload.get("Message"), str):
        detail = payload["Message"]
    elif isinstance(payload, str) and payload:
        detail = payload
    else:
        detail = _DURABLE_DETAILS.get(status, f"{status_phrase(status)}.")
    return problem(status, status_phrase(status), detail)


async def _unhandled(_request: Request, _exc: Exception) -> Response:
    # The traceback goes to the host log; the caller learns only that the host failed.
    return problem(500, "Internal error", "The host could not answer this request; see the host log.")


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return problem(exc.status_code, status_phrase(exc.status_code), f"{status_phrase(exc.status_code)}.",
                   dict(exc.headers or {}))


class AnyMethod:
    """An endpoint that receives every HTTP method: Starlette's Route limits a plain function to GET unless given a
    list, but hands any method to an ASGI object."""

    def __init__(self, handler: Callable[[Request], Awaitable[Response]]):
        self._app = request_response(handler)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


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
        # Every route takes every method, so that each answer, a 405 included, is the host's problem+json.
        self.app = Starlette(
            routes=[
                Route("/runtime/webhooks/durabletask/{path:path}", AnyMethod(self._durable)),
                Route("/admin/functions/{name}", AnyMethod(self._admin)),
                Route("/{path:path}", AnyMethod(self._dispatch)),
            ],
            exception_handlers={Exception: _unhandled, HTTPException: _http_error},
        )

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
            return method_not_allowed(request.method, allowed)
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
        """The Durable extension's webhooks: the extension's system key or the master key, as in Azure."""
        if request.method not in DURABLE_METHODS:
            return method_not_allowed(request.method, DURABLE_METHODS)
        denied = _key_denied(request, DURABLE_WEBHOOK_KEYS, "The Durable management API needs the Durable system "
                             "key or the master key (x-functions-key header or code query).")
        if denied is not None:
            return denied
        if self.durable_api is None:
            return problem(404, "Not found", "Durable Functions are not enabled in this app.")
        body = await request.body()
        status, payload = await self.durable_api(
            request.method, request.path_params["path"], dict(request.query_params), body or None)
        return durable_response(status, payload)

    async def _admin(self, request: Request) -> Response:
        """Run a timer or queue function now (as Core Tools does); the master key is required, as in Azure."""
        if request.method not in ADMIN_METHODS:
            return method_not_allowed(request.method, ADMIN_METHODS)
        denied = _key_denied(request, ADMIN_ROUTE_KEYS,
                             "Admin invocation needs the master key (x-functions-key header or code query).")
        if denied is not None:
            return denied
        if self.admin_invoke is None:
            return problem(404, "Not found", "Admin invocation is not enabled.")
        name = request.path_params["name"]
        data, invalid = _admin_input(await request.body())
        if invalid is not None:
            return invalid
        try:
            await self.admin_invoke(name, data)
        except KeyError:
            return problem(404, "Unknown function", f"No timer or queue function named '{name}'.")
        return host_json(202, None)


def _admin_input(raw: bytes) -> tuple[str | None, Response | None]:
    """The ``input`` of an admin invocation body (``{"input": "..."}``; an empty body means no input)."""
    if not raw.strip():
        return None, None
    try:
        parsed = jsonsafe.loads(raw)
    except jsonsafe.JsonRejected as exc:
        message = f"The request body is not acceptable JSON: {exc}."
        return None, problem(400, "Malformed JSON", message, errors=[{"field": "body", "message": message}])
    if not isinstance(parsed, dict):
        message = 'The body must be a JSON object like {"input": "..."}.'
        return None, problem(400, "Invalid request", message, errors=[{"field": "body", "message": message}])
    data = parsed.get("input")
    if data is None:
        return None, None
    if not isinstance(data, str):
        message = "'input' must be a string."
        return None, problem(400, "Invalid request", message, errors=[{"field": "input", "message": message}])
    try:
        size = len(data.encode("utf-8"))
    except UnicodeEncodeError:
        message = "'input' is not valid Unicode text."
        return None, problem(400, "Invalid request", message, errors=[{"field": "input", "message": message}])
    if size > MAX_ADMIN_INPUT_BYTES:
        message = f"'input' is longer than {MAX_ADMIN_INPUT_BYTES} bytes, more than a queue message holds."
        return None, problem(400, "Invalid request", message, errors=[{"field": "input", "message": message}])
    return data, None
