"""Helpers to run the local host as a real process (uvicorn on a free port), as `make run` does."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]


def wait_for(check, timeout: float = 30.0, interval: float = 0.2):
    """The first truthy value of ``check()``, asked again every ``interval`` seconds; an AssertionError when none
    comes within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def answered(base: str, response: httpx.Response, timeout: float = 120) -> httpx.Response:
    """The chat turn's answer: ``response`` itself, or, for a turn that outlasted the chat wait (202), its status URL
    polled until it answers, as a client does (a new host warms its models while it serves)."""
    if response.status_code != 202:
        return response
    pending = response.json()
    return wait_for(lambda: (r := httpx.get(f"{base}{pending['status_url']}", timeout=10, headers={
        "X-Conversation-Token": pending["conversation_token"]})).status_code == 200 and r, timeout=timeout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class HostProcess:
    def __init__(self, env: dict[str, str], app_dir: Path, module: str, log_path: Path):
        self.env, self.app_dir, self.module, self.log_path = env, app_dir, module, log_path
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> float:
        """Start and wait for /api/health (or any answer); returns seconds until the first healthy response."""
        began = time.perf_counter()
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "core.devhost", "--app-dir", str(self.app_dir), "--module", self.module,
             "--port", str(self.port), "--settings", str(REPO / "local.settings.sample.json")],
            cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"host exited: {self.log_path.read_text()[-3000:]}")
            try:
                response = httpx.get(f"{self.base}/api/health", timeout=1)
                if response.status_code in (200, 404):
                    return time.perf_counter() - began
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("host did not start in time")

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, like a crashed worker."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def key_header(setting: str) -> dict[str, str]:
    """The ``x-functions-key`` header holding a host key (``LOCAL_MASTER_KEY``, ``LOCAL_DURABLE_SYSTEM_KEY``...) as
    the test hosts have it: from the environment, else the sample settings tests/conftest.py loaded."""
    return {"x-functions-key": os.environ[setting]}


def host_env(storage: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update({
        # One worker process unless a test asks for more (tests/integration/test_devhost_workers.py).
        "FUNCTIONS_WORKER_RUNTIME": "python", "FUNCTIONS_WORKER_PROCESS_COUNT": "1",
        "AzureWebJobsStorage": storage, "DATA_DIR": str(data_dir),
        "DOCUMENT_STORE": "sqlite", "EVENT_QUEUE": "storage", "LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1",
        "ANALYTICS_QUEUE_NAME": f"analytics-{uuid.uuid4().hex[:10]}",
        "ESCALATION_QUEUE_NAME": f"escalations-{uuid.uuid4().hex[:10]}",
    })
    env.update(extra)
    return env


@contextlib.asynccontextmanager
async def nudged_poller(spec, connection: str, options):
    """A local-host queue poller running on this loop, woken by this process's own sends to its queue (as the host
    wires it), yielded once its first (empty) poll is done; stopped and closed on exit."""
    import asyncio

    from core.devhost.queues import QueuePoller
    from core.stores.storage_queue import on_enqueued

    poller = QueuePoller(spec, connection, options)
    loop = asyncio.get_running_loop()
    stop_watching = on_enqueued(lambda name: name == spec.queue_name and loop.call_soon_threadsafe(poller.nudge))
    task = asyncio.create_task(poller.run_forever())
    try:
        while poller.polls < 1:
            await asyncio.sleep(0.01)
        yield poller
    finally:
        stop_watching()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await poller.close()
