"""Start and stop Azurite (blob, queue, table emulator from npm) on 127.0.0.1, tracked by its own PID file."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def connection_string(blob: int, queue: int, table: int) -> str:
    """The well-known Azurite development account (public, documented test key — not a secret)."""
    return (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        f"AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{blob}/devstoreaccount1;"
        f"QueueEndpoint=http://127.0.0.1:{queue}/devstoreaccount1;"
        f"TableEndpoint=http://127.0.0.1:{table}/devstoreaccount1;"
    )


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start(location: Path, blob: int = 10000, queue: int = 10001, table: int = 10002, timeout: float = 30) -> int:
    """Start Azurite in the background (idempotent: an instance already on these ports is reused)."""
    pid_file = location / "azurite.pid"
    if all(_listening(p) for p in (blob, queue, table)):
        return int(pid_file.read_text()) if pid_file.exists() else 0
    binary = REPO / "node_modules" / ".bin" / "azurite"
    if not binary.exists():
        raise SystemExit("Azurite is not installed: run `make setup` (npm ci) first")
    location.mkdir(parents=True, exist_ok=True)
    log = open(location / "azurite.log", "ab")
    process = subprocess.Popen(
        [str(binary), "--silent", "--skipApiVersionCheck", "--loose", "--location", str(location),
         "--blobHost", "127.0.0.1", "--blobPort", str(blob), "--queueHost", "127.0.0.1", "--queuePort", str(queue),
         "--tableHost", "127.0.0.1", "--tablePort", str(table)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    pid_file.write_text(str(process.pid))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(_listening(p) for p in (blob, queue, table)):
            return process.pid
        if process.poll() is not None:
            raise SystemExit(f"Azurite exited early; see {location / 'azurite.log'}")
        time.sleep(0.1)
    stop(location)
    raise SystemExit(f"Azurite did not listen on {blob}/{queue}/{table} within {timeout}s")


def stop(location: Path) -> None:
    pid_file = location / "azurite.pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text() or 0)
    pid_file.unlink()
    if pid <= 0:
        return
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.devhost.azurite")
    parser.add_argument("command", choices=["start", "stop", "connection-string"])
    parser.add_argument("--location", default=str(REPO / ".azurite"))
    parser.add_argument("--ports", default="10000,10001,10002", help="blob,queue,table")
    args = parser.parse_args(argv)
    blob, queue, table = (int(p) for p in args.ports.split(","))
    if args.command == "start":
        pid = start(Path(args.location), blob, queue, table)
        print(f"azurite running (pid {pid}) on 127.0.0.1:{blob},{queue},{table}")
    elif args.command == "stop":
        stop(Path(args.location))
    else:
        print(connection_string(blob, queue, table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
