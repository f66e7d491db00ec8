"""Cold start of the deployable package: ``make package``'s zip, unpacked and started under the local host with an
empty DATA_DIR, onboards the demo shop through the import endpoint (a zip upload) and answers a first chat turn;
then a second process starts on the same DATA_DIR (a new instance of an app whose shop is onboarded) and answers
its first turn. Nothing may be trained: the models come from the package's artifacts.

The local host (core/devhost) is not part of the package (in Azure the Functions host runs it): it is copied next
to the unpacked app, whose own files are otherwise used as shipped.

Usage: .venv/bin/python -m tests.bench.cold_start [dist/shopdesk.zip] (Azurite: TEST_AZURITE_CONNECTION_STRING,
as ``make bench-cold-start`` sets it). Prints the figures (seconds from process start)."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from core.deploy.onboard import onboard
from tests.integration.hosting import free_port, host_env

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "knowledge" / "tenants" / "demo"
FIRST_MESSAGE = "Hi! Where is my order #1001? My email is the one on the order."


@dataclass
class ColdStart:
    ready_s: float = 0.0  # process start -> first healthy response
    import_s: float = 0.0  # the import request (zip upload, validation, indexing)
    first_reply_s: float = 0.0  # process start -> first chat reply (this run includes the import)
    restart_ready_s: float = 0.0
    restart_first_reply_s: float = 0.0  # a new process, shop already onboarded: process start -> first reply
    # CPU seconds the host process had used at its first reply: unlike the wall-clock figures, they do not grow
    # when other processes share the CPU.
    first_reply_cpu_s: float = 0.0
    restart_first_reply_cpu_s: float = 0.0
    report: dict = field(default_factory=dict)
    replies: list[dict] = field(default_factory=list)
    pending: int = 0  # first turns that took longer than the chat wait (answered 202, then polled)
    log: str = ""
    data_files: list[str] = field(default_factory=list)
    app_changes: list[str] = field(default_factory=list)


def unpack(package: Path, dest: Path) -> Path:
    with zipfile.ZipFile(package) as archive:
        archive.extractall(dest)
    shutil.copytree(REPO / "core" / "devhost", dest / "core" / "devhost",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


class _Host:
    def __init__(self, app: Path, env: dict[str, str], log: Path):
        self.app, self.env, self.log = app, env, log
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120) -> float:
        self.began = time.perf_counter()
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "core.devhost", "--port", str(self.port), "--no-timers",
                 "--settings", "local.settings.sample.json"],
                cwd=self.app, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"host exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.base}/api/health", timeout=1).status_code == 200:
                    return time.perf_counter() - self.began
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("host did not start in time")

    def chat(self, tenant: str, message: str, timeout: float = 120) -> tuple[dict, float, bool]:
        """The reply (following a 202's status URL until it is there), seconds since process start, and whether
        the chat answered 202 first."""
        response = httpx.post(f"{self.base}/api/tenants/{tenant}/chat", json={"message": message}, timeout=timeout)
        deadline = time.monotonic() + timeout
        pending = response.json() if response.status_code == 202 else {}
        while response.status_code == 202 and time.monotonic() < deadline:
            time.sleep(0.2)
            url = pending["status_url"]
            response = httpx.get(f"{self.base}{url}" if url.startswith("/") else url, timeout=timeout,
                                 headers={"x-conversation-token": pending["conversation_token"]})
        if response.status_code != 200:
            raise RuntimeError(f"chat answered {response.status_code}: {response.text[:500]}")
        return response.json(), time.perf_counter() - self.began, bool(pending)

    def cpu_seconds(self) -> float:
        import psutil

        times = psutil.Process(self.process.pid).cpu_times()
        return times.user + times.system

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def run(package: Path, storage: str, workdir: Path, *, tenant: str = "demo", folder: Path = DEMO) -> ColdStart:
    app = unpack(package, workdir / "app")
    data = workdir / "data"
    data.mkdir()
    before = _files(app)
    env = host_env(storage, data, DATA_DIR=str(data))
    env.pop("PYTHONPATH", None)  # the unpacked app's own code, not the checkout's
    key = env.get("LOCAL_FUNCTION_KEY", "local-function-key")
    log = workdir / "host.log"
    result = ColdStart()
    host = _Host(app, env, log)
    result.ready_s = host.start()
    try:
        started = time.perf_counter()
        result.report = onboard(host.base, key, tenant, folder, attempts=1)
        result.import_s = time.perf_counter() - started
        reply, result.first_reply_s, pending = host.chat(tenant, FIRST_MESSAGE)
        result.first_reply_cpu_s = host.cpu_seconds()
        result.replies.append(reply)
        result.pending += pending
    finally:
        host.stop()
    again = _Host(app, env, log)
    result.restart_ready_s = again.start()
    try:
        reply, result.restart_first_reply_s, pending = again.chat(tenant, FIRST_MESSAGE)
        result.restart_first_reply_cpu_s = again.cpu_seconds()
        result.replies.append(reply)
        result.pending += pending
    finally:
        again.stop()
    result.log = log.read_text(encoding="utf-8", errors="replace")
    result.data_files = sorted(_files(data))
    result.app_changes = sorted(_files(app) ^ before)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.cold_start", description=__doc__.splitlines()[0])
    parser.add_argument("package", nargs="?", default=str(REPO / "dist" / "shopdesk.zip"))
    args = parser.parse_args(argv)
    storage = os.environ.get("TEST_AZURITE_CONNECTION_STRING")
    if not storage:
        raise SystemExit("set TEST_AZURITE_CONNECTION_STRING (make bench-cold-start starts Azurite and sets it)")
    from core.config import load_local_settings

    load_local_settings(REPO / "local.settings.sample.json")
    with tempfile.TemporaryDirectory(prefix="shopdesk-cold-") as tmp:
        result = run(Path(args.package), storage, Path(tmp))
    trained = "training it" in result.log
    print(f"package: {args.package} ({Path(args.package).stat().st_size / 1e6:.1f} MB)")
    print(f"empty DATA_DIR: ready {result.ready_s:.2f} s, import of the demo shop {result.import_s:.2f} s "
          f"({result.report.get('documents')} documents), first reply {result.first_reply_s:.2f} s after process "
          f"start ({result.first_reply_cpu_s:.2f} CPU s)")
    print(f"restart (shop onboarded): ready {result.restart_ready_s:.2f} s, first reply "
          f"{result.restart_first_reply_s:.2f} s after process start ({result.restart_first_reply_cpu_s:.2f} CPU s)")
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"models trained: {'YES' if trained else 'none'}; loaded from the package: "
          f"{result.log.count('loaded from the package')}; first turns answered 202 then polled: {result.pending}")
    for line in result.log.splitlines():
        if "warm-up done" in line:
            print("host", line.split(" INFO ", 1)[-1])
    return 1 if trained else 0


if __name__ == "__main__":
    sys.exit(main())
