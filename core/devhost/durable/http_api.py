"""The Durable extension's HTTP management API, served by the local engine.

Two URL families reach `DurableHttpApi.handle`: the RPC calls the SDK's `DurableOrchestrationClient` makes
under `rpcBaseUrl` (`orchestrators/{name}[/{id}]`, `instances/...`), and the public webhook URLs of the
check-status payload (`/runtime/webhooks/durabletask/instances/{id}?taskHub=..&connection=..[&code=..]`,
`.../raiseEvent/{eventName}`, `.../terminate?reason=`, `.../suspend`, `.../resume`, `.../restart`,
`.../rewind`). Status codes follow the extension's `HttpApiHandler`:
GET instance -> 200 Completed/Terminated (and Failed, or 500 with returnInternalServerErrorOnFailure=true),
202 Pending/Running/ContinuedAsNew/Suspended, 404 unknown; raiseEvent/terminate/suspend/resume -> 202,
404 unknown, 410 finished; start -> 202 + check-status payload, 400 unknown orchestrator, 409 running duplicate.

Payload encodings, read from the extension and the SDK so orchestrator code sees what it sees in Azure:
- start: the SDK posts `df_dumps(input)` *as a JSON string* (aiohttp `json=` encodes it again); the extension
  hands the orchestrator that string as its context input, which `get_input()` decodes once. A JSON string body
  therefore becomes the engine's `input_json` as is; any other JSON body (curl) is re-serialized.
- raiseEvent: the SDK posts `json.dumps(data)` as a JSON string too, but the extension keeps the parsed body
  (a string) as the event payload, so `wait_for_external_event` returns a *str* of JSON, not the object
  (azure-functions-durable-python#295). We store `json.dumps(parsed body)` as the EventRaised input, which
  reproduces exactly that; a client posting a raw JSON object gets the object.

Error bodies are `{"Message": "<what was wrong, in plain words>"}` (or the extension's plain-text body where it has
one); they never carry exception text. Request bodies are read as bounded JSON (`core.jsonsafe`).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from core import jsonsafe

from .engine import DurableEngine
from .errors import FunctionNotFoundError, InstanceAlreadyExistsError, InstanceNotFoundError, InstanceStateError
from .history import parse_timestamp
from .store import RUNTIME_STATUSES, TERMINAL_STATUSES

__all__ = ["DurableHttpApi"]

Response = tuple[int, Any]
_RUNNING = {"Pending", "Running", "ContinuedAsNew", "Suspended"}
WEBHOOK_PATH = "/runtime/webhooks/durabletask"


_BAD_ARGUMENTS = "One or more of the arguments submitted is incorrect."
_BAD_INSTANCE_ID = "An instance ID must be 1 to 256 characters, without '/', '\\', '#', '?' or control characters."


def _error(status: int, message: str) -> Response:
    return status, {"Message": message}


def _seconds(query: Mapping[str, str], key: str) -> float | None:
    """A finite, non-negative number of seconds from the query; None when absent; ValueError otherwise."""
    value = query.get(key.lower())
    if value is None or value == "":
        return None
    seconds = float(value) if len(value) <= 32 else math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(key)
    return seconds


def _bool(query: Mapping[str, str], key: str, default: bool) -> bool:
    value = query.get(key.lower())
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    return default


def _date(query: Mapping[str, str], key: str) -> datetime | None:
    value = query.get(key.lower())
    if not value:
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None


def _statuses(query: Mapping[str, str]) -> list[str] | None:
    """`runtimeStatus=Running,Completed` -> canonical names (unknown names ignored, like Enum.TryParse)."""
    raw = query.get("runtimestatus")
    if not raw:
        return None
    by_lower = {s.lower(): s for s in RUNTIME_STATUSES}
    return [by_lower[s.strip().lower()] for s in raw.split(",") if s.strip().lower() in by_lower] or None


class DurableHttpApi:
    """HTTP management API of one engine; `handle()` is transport-agnostic."""

    def __init__(
        self,
        engine: DurableEngine,
        rpc_base_url: str = f"http://127.0.0.1:7071{WEBHOOK_PATH}/",
        public_base_url: str = f"http://localhost:7071{WEBHOOK_PATH}",
        task_hub: str | None = None,
        *,
        connection_name: str = "Storage",
        system_key: str | None = None,
    ) -> None:
        self.engine = engine
        self.rpc_base_url = rpc_base_url.rstrip("/") + "/"  # the SDK appends "orchestrators/..." directly
        self.public_base_url = public_base_url.rstrip("/")
        self.task_hub = task_hub or engine.task_hub
        self.connection_name = connection_name
        self.system_key = system_key
        #: The host's other worker processes (core.devhost.workers.PeerLink): their instances are answered for too.
        self.peers: list[Any] = []
        self._prefixes = sorted(
            {urlsplit(self.rpc_base_url).path.rstrip("/"), urlsplit(self.public_base_url).path.rstrip("/"),
             WEBHOOK_PATH} - {""},
            key=len, reverse=True,
        )

    # ------------------------------------------------------------------------------ binding & URLs
    def _query_suffix(self) -> str:
        suffix = f"taskHub={quote(self.task_hub, safe='')}&connection={quote(self.connection_name, safe='')}"
        return suffix + (f"&code={quote(self.system_key, safe='')}" if self.system_key else "")

    def management_urls(self, instance_id: str) -> dict[str, str]:
        """The extension's HttpManagementPayload for one instance (placeholders `{eventName}`/`{text}` kept)."""
        prefix = f"{self.public_base_url}/instances/{quote(instance_id, safe='')}"
        qs = self._query_suffix()
        return {
            "id": instance_id,
            "statusQueryGetUri": f"{prefix}?{qs}",
            "sendEventPostUri": f"{prefix}/raiseEvent/{{eventName}}?{qs}",
            "terminatePostUri": f"{prefix}/terminate?reason={{text}}&{qs}",
            "rewindPostUri": f"{prefix}/rewind?reason={{text}}&{qs}",
            "purgeHistoryDeleteUri": f"{prefix}?{qs}",
            "restartPostUri": f"{prefix}/restart?{qs}",
            "suspendPostUri": f"{prefix}/suspend?reason={{text}}&{qs}",
            "resumePostUri": f"{prefix}/resume?reason={{text}}&{qs}",
        }

    def check_status_payload(self, instance_id: str) -> dict[str, str]:
        """Body of the extension's 202 check-status response."""
        urls = self.management_urls(instance_id)
        urls.pop("rewindPostUri")
        return urls

    def binding_json(self) -> str:
        """What the host passes as the `durableClient` input binding (`DurableOrchestrationClient(...)`)."""
        code = f"code={quote(self.system_key, safe='')}" if self.system_key else ""
        creation_prefix = f"{self.public_base_url}/orchestrators/{{functionName}}[/{{instanceId}}]"
        return json.dumps({
            "taskHubName": self.task_hub,
            "connectionName": None,
            "creationUrls": {
                "createNewInstancePostUri": f"{creation_prefix}?{code}",
                "createAndWaitOnNewInstancePostUri":
                    f"{creation_prefix}?timeout={{timeoutInSeconds}}&pollingInterval={{intervalInSeconds}}&{code}",
            },
            "managementUrls": self.management_urls("INSTANCEID"),
            "baseUrl": self.public_base_url,
            "requiredQueryStringParameters": code,
            "rpcBaseUrl": self.rpc_base_url,
        })

    # ------------------------------------------------------------------------------ routing
    def _route(self, path: str) -> list[str]:
        if "://" in path:
            path = urlsplit(path).path
        for prefix in self._prefixes:
            if path == prefix or path.startswith(prefix + "/"):
                path = path[len(prefix):]
                break
        return [unquote(part) for part in path.strip("/").split("/")] if path.strip("/") else []

    async def handle(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None = None,
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        local_only: bool = False,
    ) -> Response:
        """Serve one request; returns (HTTP status, JSON-serializable body or None for an empty body).

        `path` may be the RPC path, the public webhook path, a full URL or just `instances/...`; `query`
        values are already URL-decoded. With other workers (`peers`), an instance this engine does not hold is
        served by the worker that holds it, and lists and purges cover every worker, unless `local_only`."""
        method = method.upper()
        q = {k.lower(): v for k, v in (query or {}).items()}
        if isinstance(body, str):
            body = body.encode("utf-8")
        segments = self._route(path)
        if self.peers and not local_only and segments:
            forwarded = await self._across_workers(method, segments, query or {}, body, headers)
            if forwarded is not None:
                return forwarded
        try:
            if not segments:
                return 404, None
            head = segments[0].lower()
            if head == "orchestrators" and len(segments) in (2, 3):
                if method != "POST":
                    return 404, None
                return await self._start(segments[1], segments[2] if len(segments) == 3 else None, q, body)
            if head == "instances":
                return await self._instances(method, segments[1:], q, body, headers)
            if head == "entities":
                return _error(501, "Durable entities are not supported by the local durable engine.")
            return 404, None
        except InstanceNotFoundError:
            return 404, None
        except ValueError:
            return _error(400, _BAD_ARGUMENTS)

    async def _across_workers(self, method: str, segments: list[str], query: Mapping[str, str], body: bytes | None,
                              headers: Mapping[str, str] | None) -> Response | None:
        """The answer when another worker must give it (None: this engine answers alone)."""
        head = segments[0].lower()
        path = "/".join(quote(part, safe="") for part in segments)
        instance_id = (segments[1] if head == "instances" and len(segments) >= 2
                       else segments[2] if head == "orchestrators" and len(segments) == 3 else None)
        if instance_id is not None:
            if self.engine.store.has_instance(instance_id):
                return None
            owner = next((peer for peer in self.peers if peer.owns(instance_id)), None)
            return None if owner is None else await owner.forward(method, path, query, body, headers)
        if head != "instances" or method not in ("GET", "DELETE"):
            return None
        answers = [await self.handle(method, path, query, body, headers, local_only=True)]
        answers += [await peer.forward(method, path, query, body, headers) for peer in self.peers]
        if method == "GET":
            if any(status != 200 for status, _ in answers):
                return next((status, payload) for status, payload in answers if status != 200)
            rows = sorted((row for _, payload in answers for row in payload), key=lambda r: r.get("createdTime", ""))
            top = query.get("top") or query.get("Top")
            return 200, rows[:int(top)] if top and top.isdigit() else rows
        deleted = sum(payload.get("instancesDeleted", 0) for status, payload in answers
                      if status == 200 and isinstance(payload, dict))
        if not deleted:
            return next(((s, p) for s, p in answers if s not in (200, 404)), (404, None))
        return 200, {"instancesDeleted": deleted}

    async def _instances(self, method: str, rest: list[str], q: Mapping[str, str], body: bytes | None,
                         headers: Mapping[str, str] | None) -> Response:
        if not rest:
            if method == "GET":
                return await self._list(q)
            if method == "DELETE":
                return await self._purge_by(q)
            return 404, None
        instance_id = rest[0]
        if len(rest) == 1:
            if method == "GET":
                return await self._status(instance_id, q)
            if method == "DELETE":
                return await self._purge(instance_id)
            return 404, None
        if method != "POST":
            return 404, None
        operation = rest[1].lower()
        if operation == "raiseevent" and len(rest) == 3:
            return await self._raise_event(instance_id, rest[2], body, headers)
        if len(rest) != 2:
            return 404, None
        if operation == "terminate":
            return await self._lifecycle(self.engine.terminate, instance_id, q.get("reason"))
        if operation == "suspend":
            return await self._lifecycle(self.engine.suspend, instance_id, q.get("reason"))
        if operation == "resume":
            return await self._lifecycle(self.engine.resume, instance_id, q.get("reason"))
        if operation == "restart":
            return await self._restart(instance_id, q)
        if operation == "rewind":
            return await self._rewind(instance_id)
        return 404, None

    # ------------------------------------------------------------------------------ handlers
    async def _start(self, name: str, instance_id: str | None, q: Mapping[str, str], body: bytes | None
                     ) -> Response:
        input_json: str | None = None
        if body and body.strip():
            try:
                value = jsonsafe.loads(body)
            except jsonsafe.JsonRejected as exc:
                return _error(400, f"The request body is not acceptable JSON: {exc}.")
            input_json = value if isinstance(value, str) else json.dumps(value)
        try:
            timeout, interval = _seconds(q, "timeout"), _seconds(q, "pollingInterval")
        except ValueError:
            return _error(400, "'timeout' and 'pollingInterval' must be numbers of seconds.")
        try:
            new_id = await self.engine.start_new(name, instance_id or None, input_json, version=q.get("version"))
        except FunctionNotFoundError:
            return _error(400, f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator function.")
        except InstanceAlreadyExistsError:
            return _error(409, f"An orchestration with instance ID '{instance_id}' already exists and has not "
                               "finished; only finished instances can be replaced.")
        except ValueError:
            return _error(400, _BAD_INSTANCE_ID)
        if timeout is not None and interval:
            return await self._wait_or_check_status(new_id, timeout, interval)
        return 202, self.check_status_payload(new_id)

    async def _wait_or_check_status(self, instance_id: str, timeout: float, interval: float) -> Response:
        deadline = time.monotonic() + timeout
        while True:
            status = await self.engine.get_status(instance_id)
            if status and status["runtimeStatus"] == "Completed":
                return 200, status["output"]
            if status and status["runtimeStatus"] in TERMINAL_STATUSES:
                return await self._status(instance_id, {})
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return 202, self.check_status_payload(instance_id)
            await asyncio.sleep(min(interval, remaining))

    async def _status(self, instance_id: str, q: Mapping[str, str]) -> Response:
        show_history = _bool(q, "showHistory", False)
        status = await self.engine.get_status(
            instance_id,
            show_history=show_history,
            show_input=_bool(q, "showInput", True),
            show_history_output=_bool(q, "showHistoryOutput", False),
        )
        if status is None:
            return 404, None
        if show_history:
            status["historyEvents"] = status["history"]  # the extension's name; `history` is what the SDK reads
        runtime = status["runtimeStatus"]
        if runtime in _RUNNING:
            return 202, status
        if runtime == "Failed" and _bool(q, "returnInternalServerErrorOnFailure", False):
            return 500, status
        return 200, status

    async def _list(self, q: Mapping[str, str]) -> Response:
        top = q.get("top")
        rows = await self.engine.list_instances(
            runtime_status=_statuses(q),
            created_from=_date(q, "createdTimeFrom"),
            created_to=_date(q, "createdTimeTo"),
            instance_id_prefix=q.get("instanceidprefix"),
            show_input=_bool(q, "showInput", True),
            top=int(top) if top and top.isdigit() else None,
        )
        return 200, rows

    async def _raise_event(self, instance_id: str, event_name: str, body: bytes | None,
                           headers: Mapping[str, str] | None) -> Response:
        status = await self.engine.get_status(instance_id)
        if status is None:
            return 404, None
        if status["runtimeStatus"] in TERMINAL_STATUSES:
            return 410, None
        content_type = next((v for k, v in (headers or {}).items() if k.lower() == "content-type"), None)
        if content_type is not None and content_type.split(";")[0].strip().lower() != "application/json":
            return _error(400, "Only application/json request content is supported")
        data_json: str | None = None
        if body and body.strip():
            try:
                data_json = json.dumps(jsonsafe.loads(body))
            except jsonsafe.JsonRejected as exc:
                return _error(400, f"The request body is not acceptable JSON: {exc}.")
        try:
            await self.engine.raise_event(instance_id, event_name, data_json)
        except InstanceStateError:
            return 410, None
        return 202, None

    async def _lifecycle(self, operation: Any, instance_id: str, reason: str | None) -> Response:
        try:
            await operation(instance_id, reason)
        except InstanceStateError:
            return 410, None
        return 202, None

    async def _restart(self, instance_id: str, q: Mapping[str, str]) -> Response:
        try:
            new_id = await self.engine.restart(instance_id, _bool(q, "restartWithNewInstanceId", True))
        except InstanceAlreadyExistsError:
            return _error(409, "A non-terminal instance with this instance ID already exists.")
        return 202, self.check_status_payload(new_id)

    async def _rewind(self, instance_id: str) -> Response:
        status = await self.engine.get_status(instance_id)
        if status is None:
            return 404, f'No orchestration with instance ID "{instance_id}" found.'
        if status["runtimeStatus"] != "Failed":
            return 412, (f"This orchestration has status {status['runtimeStatus']}, but only orchestrations in "
                         'the "Failed" state can be rewound.')
        return _error(501, "Rewind is not supported by the local durable engine (core.devhost.durable).")

    async def _purge(self, instance_id: str) -> Response:
        try:
            deleted = await self.engine.purge(instance_id)
        except InstanceStateError as exc:
            return 412, str(exc)
        if not deleted:
            return 404, None
        return 200, {"instancesDeleted": deleted}

    async def _purge_by(self, q: Mapping[str, str]) -> Response:
        created_from = _date(q, "createdTimeFrom")
        if created_from is None:
            return 400, "Please provide value for 'createdTimeFrom' parameter."
        deleted = await self.engine.purge_by(created_from, _date(q, "createdTimeTo"), _statuses(q))
        if not deleted:
            return 404, None
        return 200, {"instancesDeleted": deleted}
