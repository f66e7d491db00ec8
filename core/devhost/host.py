"""The local stand-in for the Functions host: indexes the app, serves HTTP, runs timers, queues and Durable."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path

import uvicorn

from core import instance_watch
from core.config import load_local_settings
from core.stores.storage_queue import on_enqueued

from .durable.clock import SystemClock
from .durable.engine import DurableEngine
from .durable.http_api import DurableHttpApi
from .durable.invoker import AppInvoker
from .durable.store import DurableStore
from .durable.transport import install_in_process_transport, uninstall_in_process_transport
from .functions import FunctionSpec, index_functions, load_app
from .http import HttpFrontEnd
from .keys import durable_system_key
from .queues import QueueOptions, QueuePoller
from .timers import TimerRunner
from .workers import PeerLink, WorkerSlot, durable_file, peer_socket, serve_peers

log = logging.getLogger("shopdesk.devhost")

#: How long a thread holding the GIL runs before a waiting thread may take it (Python's default is 5 ms). A worker's
#: event loop (the HTTP front, the Durable engine's dispatch and writes) gives up the GIL at every socket and SQLite
#: call and may wait that long to take it back from each activity that is computing: with many turns in flight the
#: episodes wait on the loop and the worker's threads run out of work. ``DEVHOST_GIL_SWITCH_MS`` overrides it.
DEFAULT_SWITCH_MS = 0.5


def switch_interval() -> float:
    """The GIL switch interval for a worker, in seconds."""
    try:
        ms = float(os.environ.get("DEVHOST_GIL_SWITCH_MS") or DEFAULT_SWITCH_MS)
    except ValueError:
        ms = DEFAULT_SWITCH_MS
    return max(ms, 0.05) / 1000


class LocalHost:
    def __init__(self, *, app_dir: Path, module: str = "function_app", host: str = "127.0.0.1", port: int = 7071,
                 settings_file: Path | None = None, run_timers: bool = True, run_queues: bool = True,
                 slot: WorkerSlot | None = None):
        self.app_dir = app_dir.resolve()
        self.module = module
        self.host = host
        self.port = port
        self.settings_file = settings_file
        self.slot = slot or WorkerSlot(0, 1)
        # Of several workers, the first alone runs timers and queues (see core.devhost.workers).
        self.run_timers = run_timers and self.slot.primary
        self.run_queues = run_queues and self.slot.primary
        self.peers: list[PeerLink] = []
        self._peer_server: asyncio.AbstractServer | None = None
        self._peer_socket: Path | None = None
        self.specs: list[FunctionSpec] = []
        self.engine: DurableEngine | None = None
        self.timers: dict[str, TimerRunner] = {}
        self.pollers: dict[str, QueuePoller] = {}
        self._tasks: list[asyncio.Task] = []
        self._stop_watching: Callable[[], None] | None = None

    # Start-up -----------------------------------------------------------------------------------------------
    def load(self) -> None:
        if self.settings_file is not None:
            load_local_settings(self.settings_file)
        host_json_path = self.app_dir / "host.json"
        self.host_json = json.loads(host_json_path.read_text()) if host_json_path.exists() else {}
        app = load_app(self.module, self.app_dir)
        functions = app.get_functions()  # may be called only once per app object: everything shares this list
        self.specs = index_functions(functions)
        base = f"http://{self.host}:{self.port}"
        durable_specs = [s for s in self.specs if s.trigger_type in ("orchestrationTrigger", "activityTrigger")]
        self.durable_api: DurableHttpApi | None = None
        if durable_specs or any(s.durable_client_param for s in self.specs):
            hub = ((self.host_json.get("extensions") or {}).get("durableTask") or {}).get("hubName", "TestHubName")
            data_dir = Path(os.environ.get("DATA_DIR", self.app_dir / ".data"))
            if not data_dir.is_absolute():
                data_dir = self.app_dir / data_dir
            data_dir.mkdir(parents=True, exist_ok=True)
            store = DurableStore(durable_file(data_dir, hub, self.slot.index))
            durable = (self.host_json.get("extensions") or {}).get("durableTask") or {}
            # host.json's activity cap applies here as in Azure (per worker process, as per instance there).
            self.engine = DurableEngine(store, AppInvoker(functions), SystemClock(), task_hub=hub,
                                        max_concurrent_activities=int(durable.get("maxConcurrentActivityFunctions")
                                                                      or 16))
            rpc = f"{base}/runtime/webhooks/durabletask/"
            # The status URLs the app hands out carry the Durable system key as `code=`, as the extension's do.
            self.durable_api = DurableHttpApi(self.engine, rpc_base_url=rpc, public_base_url=rpc, task_hub=hub,
                                              system_key=durable_system_key())
            if self.slot.count > 1:
                self.peers = [PeerLink(i, durable_file(data_dir, hub, i), peer_socket(data_dir, i))
                              for i in range(self.slot.count) if i != self.slot.index]
                self.durable_api.peers = self.peers
                self._peer_socket = peer_socket(data_dir, self.slot.index)
        if self.durable_api is not None:
            for spec in self.specs:
                if spec.durable_client_param:
                    spec.extra["durable_client_binding"] = self.durable_api.binding_json
        route_prefix = ((self.host_json.get("extensions") or {}).get("http") or {}).get("routePrefix", "api")
        self.front = HttpFrontEnd(
            self.specs, route_prefix=route_prefix,
            durable_client_binding=self.durable_api.binding_json if self.durable_api else None,
            durable_api=self.durable_api.handle if self.durable_api else None,
            admin_invoke=self.invoke_non_http,
        )
        for spec in self.specs:
            if spec.trigger_type == "timerTrigger":
                self.timers[spec.name] = TimerRunner(spec)
            elif spec.trigger_type == "queueTrigger":
                connection = os.environ.get(spec.connection or "AzureWebJobsStorage", "")
                if not connection:
                    raise RuntimeError(f"{spec.name}: app setting {spec.connection!r} (queue connection) is empty")
                self.pollers[spec.name] = QueuePoller(spec, connection, QueueOptions.from_host_json(self.host_json))

    async def start(self) -> None:
        sys.setswitchinterval(switch_interval())
        threads = os.environ.get("PYTHON_THREADPOOL_THREAD_COUNT", "")
        if threads.isdigit() and int(threads) > 0:  # sync functions run on this many threads, as the worker's pool
            from concurrent.futures import ThreadPoolExecutor

            asyncio.get_running_loop().set_default_executor(
                ThreadPoolExecutor(int(threads), thread_name_prefix="function-worker"))
        if self.engine is not None:
            assert self.durable_api is not None
            install_in_process_transport(self.durable_api)
            await self.engine.start()
            instance_watch.install(self.engine.wait_for_change)
            if self._peer_socket is not None:
                self._peer_server = await serve_peers(self._peer_socket, self.durable_api.handle)
        for spec in self.specs:
            if spec.trigger_type == "warmupTrigger":
                # As on a new Azure instance: warm in the background; requests are served meanwhile.
                from azure.functions.warmup import WarmUpContext

                self._tasks.append(asyncio.create_task(self._warm(spec, WarmUpContext()), name=f"warmup:{spec.name}"))
        if self.run_timers:
            self._tasks.extend(asyncio.create_task(t.run_forever(), name=f"timer:{n}") for n, t in self.timers.items())
        if self.run_queues:
            self._tasks.extend(asyncio.create_task(p.run_forever(), name=f"queue:{n}") for n, p in self.pollers.items())
            self._stop_watching = on_enqueued(self._enqueued_watcher(asyncio.get_running_loop()))
        log.info("local host ready: %d functions on http://%s:%s%s", len(self.specs), self.host, self.port,
                 f" (worker {self.slot.index} of {self.slot.count})" if self.slot.count > 1 else "")

    def _enqueued_watcher(self, loop: asyncio.AbstractEventLoop):
        by_queue: dict[str, list[QueuePoller]] = {}
        for poller in self.pollers.values():
            by_queue.setdefault(poller.queue_name, []).append(poller)

        def enqueued(queue_name: str) -> None:  # any thread of this process
            for poller in by_queue.get(queue_name, ()):
                loop.call_soon_threadsafe(poller.nudge)

        return enqueued

    async def stop(self) -> None:
        if self._stop_watching is not None:
            self._stop_watching()
            self._stop_watching = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        for poller in self.pollers.values():
            await poller.close()
        if self._peer_server is not None:
            self._peer_server.close()
            self._peer_server = None
        for peer in self.peers:
            peer.close()
        if self.engine is not None:
            instance_watch.uninstall(self.engine.wait_for_change)
            await self.engine.stop()
            uninstall_in_process_transport()

    async def _warm(self, spec: FunctionSpec, context) -> None:
        from .functions import call_user_function

        try:
            await call_user_function(spec, **{spec.trigger_name: context})
        except Exception:
            log.exception("warm-up function %s failed", spec.name)

    async def invoke_non_http(self, name: str, data: str | None) -> None:
        if name in self.timers:
            await self.timers[name].fire()
        elif name in self.pollers:
            from .queues import encode_message

            poller = self.pollers[name]
            await poller.ensure_queues()
            await poller._queue.send_message(encode_message(data or ""))
        else:
            raise KeyError(name)

    # Serving ------------------------------------------------------------------------------------------------
    async def serve(self) -> None:
        self.load()

        @contextlib.asynccontextmanager
        async def lifespan(_app):
            await self.start()
            try:
                yield
            finally:
                await self.stop()

        self.front.app.router.lifespan_context = lifespan
        app = self.front.app
        if self.slot.listen_fd is not None and self.slot.count > 1:
            from .workers import one_request_per_connection

            app = one_request_per_connection(app)
        config = uvicorn.Config(app, host=self.host, port=self.port, log_level="warning",
                                access_log=False, lifespan="on")
        sockets = [socket.socket(fileno=self.slot.listen_fd)] if self.slot.listen_fd is not None else None
        await uvicorn.Server(config).serve(sockets=sockets)
