"""Serve the SDK's `DurableOrchestrationClient` in-process, without an HTTP hop.

`DurableOrchestrationClient.__init__` copies the module globals `post_async_request`, `get_async_request` and
`delete_async_request` of `azure.durable_functions.models.DurableOrchestrationClient`. After
`install_in_process_transport(api)`, clients constructed from then on send every URL under `api.rpc_base_url`
to `api.handle(...)` (bodies encoded exactly as aiohttp's `json=` would, responses round-tripped through JSON
like `response.json()`), and any other URL to the original aiohttp functions. Install it before the host
builds clients (e.g. at host start-up); several APIs (task hubs) can be installed side by side.

An error body `{"Message": ...}` also carries that plain-words message as `ExceptionMessage`, the field the SDK
raises from when a start is refused with 400.

When the client runs on another event loop than the engine (e.g. a sync function in a worker thread using
`asyncio.run`), the call is forwarded to the engine's loop with `run_coroutine_threadsafe`.
"""

from __future__ import annotations

import asyncio
import importlib
import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .http_api import DurableHttpApi

# `import azure.durable_functions.models.DurableOrchestrationClient as m` would bind the *class*: the package
# re-exports it under the submodule's name. import_module returns the module itself.
client_module = importlib.import_module("azure.durable_functions.models.DurableOrchestrationClient")

__all__ = ["install_in_process_transport", "uninstall_in_process_transport", "installed_apis"]

_NAMES = ("post_async_request", "get_async_request", "delete_async_request")
_originals: dict[str, Any] = {}
_apis: dict[str, DurableHttpApi] = {}


def installed_apis() -> list[DurableHttpApi]:
    return list(_apis.values())


def install_in_process_transport(api: DurableHttpApi) -> None:
    """Route `api.rpc_base_url` calls of clients created from now on to `api.handle`."""
    if not _originals:
        _originals.update({name: getattr(client_module, name) for name in _NAMES})
    client_module.post_async_request = _post
    client_module.get_async_request = _get
    client_module.delete_async_request = _delete
    _apis[api.rpc_base_url] = api


def uninstall_in_process_transport(api: DurableHttpApi | None = None) -> None:
    """Remove one API (or all); the SDK's originals come back once none is left."""
    if api is None:
        _apis.clear()
    elif _apis.get(api.rpc_base_url) is api:
        del _apis[api.rpc_base_url]
    if not _apis and _originals:
        for name in _NAMES:
            setattr(client_module, name, _originals[name])


def _find(url: str) -> DurableHttpApi | None:
    matches = [base for base in _apis if url.startswith(base)]
    return _apis[max(matches, key=len)] if matches else None


async def _call(api: DurableHttpApi, method: str, url: str, data: Any) -> list[Any]:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    body = None if data is None else json.dumps(data).encode("utf-8")  # aiohttp `json=data`
    headers = {"Content-Type": "application/json"} if body is not None else {}
    request = api.handle(method, parts.path, query, body, headers)
    engine_loop = api.engine.loop
    if engine_loop is not None and engine_loop.is_running() and engine_loop is not asyncio.get_running_loop():
        status, payload = await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(request, engine_loop))
    else:
        status, payload = await request
    payload = None if payload is None else json.loads(json.dumps(payload))
    if status >= 400 and isinstance(payload, dict) and isinstance(payload.get("Message"), str):
        payload.setdefault("ExceptionMessage", payload["Message"])
    return [status, payload]


def _original(name: str) -> Any:
    return _originals.get(name) or getattr(client_module, name)


async def _post(url: str, data: Any = None, trace_parent: str | None = None, trace_state: str | None = None,
                function_invocation_id: str | None = None) -> list[Any]:
    api = _find(url)
    if api is None:
        return await _original("post_async_request")(url, data, trace_parent, trace_state, function_invocation_id)
    return await _call(api, "POST", url, data)


async def _get(url: str, function_invocation_id: str | None = None) -> list[Any]:
    api = _find(url)
    if api is None:
        return await _original("get_async_request")(url, function_invocation_id)
    result = await _call(api, "GET", url, None)
    if result[1] is None:
        result[1] = ""  # get_async_request turns an empty body into ""
    return result


async def _delete(url: str, function_invocation_id: str | None = None) -> list[Any]:
    api = _find(url)
    if api is None:
        return await _original("delete_async_request")(url, function_invocation_id)
    return await _call(api, "DELETE", url, None)
