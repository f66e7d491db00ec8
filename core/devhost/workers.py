"""Several worker processes behind one port, as ``FUNCTIONS_WORKER_PROCESS_COUNT`` gives a Functions app in Azure.

The supervisor (``python -m core.devhost --workers N``) binds the port once and starts N copies of the local
host, each accepting connections from that one socket, so the app's Python work spreads over the machine's cores.
A worker that exits is started again. Each worker runs its functions in process, with its own Durable engine
on its own SQLite file (``durable-<hub>.sqlite`` for worker 0, ``durable-<hub>-w<i>.sqlite`` for the others):
a chat turn is orchestrated where its request arrived. Worker 0 alone runs the timer and queue triggers, so
schedules fire once and the event limits (events/s, handlers at once) hold for the whole host.

The Durable management API of each worker also answers for the other workers' instances: a request naming an
instance its engine does not hold goes to the worker whose file holds it, over that worker's Unix socket in the
data folder (``devhost-w<i>.sock``, readable by the host's user only); listing and purging cover every worker.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("shopdesk.devhost.workers")

Handler = Callable[..., Awaitable[tuple[int, Any]]]
RESTART_DELAY_SECONDS = 1.0


@dataclass(frozen=True)
class WorkerSlot:
    """This process's place among the host's workers."""

    index: int
    count: int
    listen_fd: int | None = None

    @property
    def primary(self) -> bool:
        return self.index == 0

    @classmethod
    def parse(cls, text: str, listen_fd: int | None) -> WorkerSlot:
        index, _, count = text.partition("/")
        slot = cls(int(index), int(count), listen_fd)
        if not 0 <= slot.index < slot.count:
            raise ValueError(f"worker slot {text!r}: expected <index>/<count> with index < count")
        return slot


def durable_file(data_dir: Path, hub: str, index: int) -> Path:
    return data_dir / (f"durable-{hub}.sqlite" if index == 0 else f"durable-{hub}-w{index}.sqlite")


def peer_socket(data_dir: Path, index: int) -> Path:
    return data_dir / f"devhost-w{index}.sock"


# ----------------------------------------------------------------------------------------------- peers
class PeerLink:
    """Another worker: whether its Durable file holds an instance, and its management API over its socket."""

    def __init__(self, index: int, store_path: Path, socket_path: Path):
        self.index, self.store_path, self.socket_path = index, store_path, socket_path
        self._conn: sqlite3.Connection | None = None

    def owns(self, instance_id: str) -> bool:
        if self._conn is None:
            if not self.store_path.exists():
                return False
            self._conn = sqlite3.connect(f"file:{self.store_path}?mode=ro", uri=True, check_same_thread=False)
            self._conn.execute("PRAGMA busy_timeout=5000")
        try:
            row = self._conn.execute("SELECT 1 FROM instances WHERE instance_id=?", (instance_id,)).fetchone()
        except sqlite3.Error:
            return False
        return row is not None

    async def forward(self, method: str, path: str, query: Mapping[str, str], body: bytes | None,
                      headers: Mapping[str, str] | None) -> tuple[int, Any]:
        request = {"method": method, "path": path, "query": dict(query), "headers": dict(headers or {}),
                   "body": base64.b64encode(body).decode() if body is not None else None}
        try:
            reader, writer = await asyncio.open_unix_connection(str(self.socket_path), limit=2**26)
        except OSError:
            return 503, {"Message": f"Worker {self.index} of the local host is not answering."}
        try:
            writer.write(json.dumps(request).encode() + b"\n")
            await writer.drain()
            answer = json.loads(await reader.readline())
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        return answer["status"], answer["payload"]

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


async def serve_peers(socket_path: Path, handle: Handler) -> asyncio.AbstractServer:
    """Answer the other workers' management requests for this worker's instances (served locally only)."""

    async def one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = json.loads(await reader.readline())
            body = base64.b64decode(request["body"]) if request.get("body") is not None else None
            status, payload = await handle(request["method"], request["path"], request.get("query") or {}, body,
                                           request.get("headers") or {}, local_only=True)
            writer.write(json.dumps({"status": status, "payload": payload}).encode() + b"\n")
            await writer.drain()
        except Exception:  # a broken request: the peer sees the connection close
            log.exception("worker peer request failed")
        finally:
            writer.close()

    with contextlib.suppress(FileNotFoundError):
        socket_path.unlink()
    server = await asyncio.start_unix_server(one, str(socket_path), limit=2**26)
    os.chmod(socket_path, 0o600)
    return server


def one_request_per_connection(app: Callable) -> Callable:
    """Answer every HTTP request with ``Connection: close``. Workers accept from one shared socket, so a kept-alive
    connection stays with the worker that accepted it: a few clients holding their connections kept every request
    on one worker while the other idled. A connection per request lets whichever worker is free take the next
    one, as the Functions host hands each invocation to a worker process."""

    async def wrapped(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def closing(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await app(scope, receive, closing)

    return wrapped


# ----------------------------------------------------------------------------------------------- supervisor
def worker_environment(count: int, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The workers' environment: with ``EMBEDDING_THREADS`` unset or 0, each embeds on its share of the cores.
    Two processes each passing on both cores of a 2-core machine spent their OpenMP threads spinning at the
    barriers while the other process held the cores: about twice the host CPU per turn at 10 customers."""
    env = dict(os.environ if environ is None else environ)
    if env.get("EMBEDDING_THREADS", "0").strip() in ("", "0"):
        env["EMBEDDING_THREADS"] = str(max(1, (os.cpu_count() or 1) // count))
    return env



def run_supervisor(count: int, host: str, port: int, worker_argv: list[str]) -> int:
    """Bind ``host:port``, start ``count`` workers on it and keep them running until SIGINT / SIGTERM."""
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(2048)
    listener.set_inheritable(True)
    fd = listener.fileno()
    stopping = False

    env = worker_environment(count)

    def spawn(index: int) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "core.devhost", *worker_argv, "--worker-slot",
                                 f"{index}/{count}", "--listen-fd", str(fd)], pass_fds=(fd,), env=env)

    def stop(_signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    workers = {index: spawn(index) for index in range(count)}
    print(f"devhost: {count} worker processes on http://{host}:{port} "
          f"(pids {', '.join(str(p.pid) for p in workers.values())})", file=sys.stderr, flush=True)
    try:
        while not stopping:
            time.sleep(0.2)
            for index, process in list(workers.items()):
                if process.poll() is not None and not stopping:
                    print(f"devhost: worker {index} exited ({process.returncode}); starting it again",
                          file=sys.stderr, flush=True)
                    time.sleep(RESTART_DELAY_SECONDS)
                    workers[index] = spawn(index)
    finally:
        for process in workers.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in workers.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
        listener.close()
    return 0
