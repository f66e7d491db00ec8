"""Store operation latency per adapter: ``python -m tests.bench.stores`` (``make bench-stores``).

Prints p50/p95 in milliseconds for get / put / if-match put / list(50) / patch on the embedded SQLite store, the
in-memory store and Cosmos DB on @vercel/cosmosdb-server (TLS on loopback), and put / get on Blob on Azurite.
Emulators are started on free ports and stopped afterwards.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def measure(fn: Callable[[int], object], n: int) -> tuple[float, float]:
    samples = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), _pct(samples, 0.95)


def bench_documents(name: str, store, n: int) -> list[tuple[str, str, float, float]]:
    tenant = f"bench-{time.time_ns()}"
    body = {"order_number": 1001, "line_items": [{"title": "Organic Mango Soap", "quantity": 2}] * 5,
            "financial_status": "paid"}
    rows = []
    rows.append((name, "put", *measure(lambda i: store.put(tenant, "orders", f"o-{i:05d}", body), n)))
    rows.append((name, "get", *measure(lambda i: store.get(tenant, "orders", f"o-{i % n:05d}"), n)))
    etags = {}

    def cas(i):
        key = f"o-{i % 10:05d}"
        current = etags.get(key) or store.get(tenant, "orders", key).etag
        etags[key] = store.put(tenant, "orders", key, body, if_match=current)

    rows.append((name, "put if-match", *measure(cas, n)))
    rows.append((name, "list 50", *measure(lambda i: store.list(tenant, "orders", limit=50), max(n // 5, 10))))
    rows.append((name, "patch", *measure(
        lambda i: store.patch(tenant, "orders", "o-00001", [{"op": "set", "path": "/financial_status",
                                                             "value": "paid"}]), n)))
    return rows


def bench_blobs(blobs, n: int) -> list[tuple[str, str, float, float]]:
    tenant = f"bench-{time.time_ns()}"
    data = os.urandom(16 * 1024)
    return [
        ("blob (Azurite)", "put 16 KB", *measure(lambda i: blobs.put_bytes(tenant, f"b/{i}.bin", data), n)),
        ("blob (Azurite)", "get 16 KB", *measure(lambda i: blobs.get_bytes(tenant, f"b/{i % n}.bin"), n)),
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.stores")
    parser.add_argument("-n", type=int, default=300, help="operations per measurement")
    args = parser.parse_args(argv)
    n = args.n

    from core.devhost import azurite
    from core.stores.blob_store import AzureBlobStore
    from core.stores.cosmos_store import CosmosDocumentStore
    from core.stores.memory_store import MemoryDocumentStore
    from core.stores.sqlite_store import SqliteDocumentStore
    from tests.integration import cosmos_emulator

    work = Path(tempfile.mkdtemp(prefix="bench-stores-"))
    rows = []
    rows += bench_documents("memory", MemoryDocumentStore(), n)
    rows += bench_documents("sqlite (embedded)", SqliteDocumentStore(work / "bench.sqlite"), n)
    if cosmos_emulator.available():
        emulator = cosmos_emulator.start(work / "cosmos")
        try:
            store = CosmosDocumentStore.connect(emulator.endpoint, key=emulator.key, connection_verify=emulator.ca_cert)
            rows += bench_documents("cosmos (cosmosdb-server)", store, n)
        finally:
            emulator.stop()
    ports = (_free_port(), _free_port(), _free_port())
    try:
        azurite.start(work / "azurite", *ports)
        rows += bench_blobs(AzureBlobStore.connect("bench", connection_string=azurite.connection_string(*ports)), n)
    except SystemExit as exc:
        print(f"(Azurite skipped: {exc})")
    finally:
        azurite.stop(work / "azurite")
    print(f"{'adapter':<26} {'operation':<14} {'p50 ms':>8} {'p95 ms':>8}   (n={n})")
    for adapter, op, p50, p95 in rows:
        print(f"{adapter:<26} {op:<14} {p50:8.3f} {p95:8.3f}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
