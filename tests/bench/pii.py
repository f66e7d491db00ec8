"""PII benchmark: ``python -m tests.bench.pii`` (``make bench-pii``). Prints measured figures only.

1. tokenize + detokenize per message (detect, tokenize, restore a model reply echoing every token) over the eval
   corpus (knowledge/eval/pii), with the embedded vault opened and written as in a turn;
2. vault operations: embedded vault load / save; Azure Key Vault through the SDK with 50–100 ms per call
   (tests/bench/pii_recorded.py sleeps before each recorded response);
3. what PII protection adds to a turn whose model call takes 300 ms, with Key Vault: naive (read, tokenize, model,
   restore, write — all in sequence) vs the guard's design (one read at turn start, the write overlapping the
   model call).
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from azure.keyvault.secrets import SecretClient

from core.pii import PiiGuard, TenantPiiPolicy
from core.pii.vaults.keyvault import KeyVaultVault
from core.pii.vaults.local import LocalVault
from core.pii.vaults.port import MappingRecord
from tests.bench.pii_recorded import VAULT_URL, KeyVaultWire, StaticCredential
from tests.evals.pii import known_for
from tests.evals.pii_dataset import HOLDOUT, HOLDOUT2, LANGUAGES, load, load_customers

TOKEN = re.compile(r"TOKEN_[0-9a-f-]{36}")
POLICY = lambda tenant_id: TenantPiiPolicy(retention_days=30)  # noqa: E731


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def line(name: str, values: list[float]) -> str:
    return (f"{name:66} n={len(values):4}  p50 {statistics.median(values):7.2f} ms  p95 {pct(values, 0.95):7.2f} ms"
            f"  max {max(values):7.2f} ms")


def corpus() -> list[dict]:
    return [r for prefix in ("", HOLDOUT, HOLDOUT2) for lang in LANGUAGES for r in load(lang, prefix)]


def bench_messages(folder: Path) -> None:
    guard = PiiGuard(LocalVault(folder / "bench.sqlite", folder / "bench.key"), policy=POLICY,
                     background_writes=False)
    customers = load_customers()
    records = corpus()
    guard.protect("bench", "warm-up", records[0]["text"])
    per_message, per_turn = [], []
    for i, record in enumerate(records):
        known = known_for(record, customers)
        conversation = f"bench-{i // 5}"  # five messages per conversation: maps grow as in a real chat
        started = time.perf_counter()
        session = guard.open("bench", conversation)
        opened = time.perf_counter()
        tokenized, session = guard.protect("bench", conversation, record["text"], known, lang=record["lang"],
                                           session=session)
        reply = "Thanks " + " ".join(TOKEN.findall(tokenized)) + ", I'm on it."
        restored, _ = session.tokens.restore(reply)
        done = time.perf_counter()
        guard.flush(session)
        flushed = time.perf_counter()
        per_message.append((done - opened) * 1000)
        per_turn.append((flushed - started) * 1000)
        assert "TOKEN_" not in restored
    print(line("tokenize + detokenize per message (embedded vault write incl.)", per_message))
    print(line("whole turn: vault read + tokenize + restore + write (embedded)", per_turn))


def bench_vaults(folder: Path, key_vault_ops: int) -> None:
    entries = [{"t": f"{i:08x}-0000-4000-8000-000000000000", "l": "PERSON", "v": f"Person {i}",
                "k": f"person:person {i}"} for i in range(12)]
    record = MappingRecord(entries, datetime.now(UTC) + timedelta(days=30))
    local = LocalVault(folder / "ops.sqlite", folder / "ops.key")
    saves, loads = [], []
    for i in range(300):
        t0 = time.perf_counter()
        local.save("bench", f"conv-{i}", record)
        t1 = time.perf_counter()
        local.load("bench", f"conv-{i}")
        loads.append((time.perf_counter() - t1) * 1000)
        saves.append((t1 - t0) * 1000)
    print(line("embedded vault save (AES-GCM + SQLite)", saves))
    print(line("embedded vault load", loads))

    wire = KeyVaultWire(latency=(0.05, 0.10))
    key_vault = KeyVaultVault(SecretClient(VAULT_URL, StaticCredential(), transport=wire))
    saves, loads = [], []
    for i in range(key_vault_ops):
        t0 = time.perf_counter()
        key_vault.save("bench", f"conv-{i}", record)
        t1 = time.perf_counter()
        key_vault.load("bench", f"conv-{i}")
        loads.append((time.perf_counter() - t1) * 1000)
        saves.append((t1 - t0) * 1000)
    print(line("Key Vault set_secret (SDK, 50-100 ms simulated)", saves))
    print(line("Key Vault get_secret (SDK, 50-100 ms simulated)", loads))


def bench_turns(turns: int, model_ms: float) -> None:
    records = corpus()
    wire = KeyVaultWire(latency=(0.05, 0.10))
    vault = KeyVaultVault(SecretClient(VAULT_URL, StaticCredential(), transport=wire))
    naive_guard = PiiGuard(vault, policy=POLICY, background_writes=False)
    guard = PiiGuard(vault, policy=POLICY)
    naive, overlapped = [], []
    for i in range(turns):
        text = records[i % len(records)]["text"]
        # naive: everything in sequence
        started = time.perf_counter()
        tokenized, session = naive_guard.protect("bench", f"naive-{i}", text)
        time.sleep(model_ms / 1000)
        naive_guard.restore(session, tokenized)
        naive.append((time.perf_counter() - started) * 1000 - model_ms)
        # the guard's design: the write runs while the model answers
        started = time.perf_counter()
        tokenized, session = guard.protect("bench", f"overlap-{i}", text)
        time.sleep(model_ms / 1000)
        guard.restore(session, tokenized)
        overlapped.append((time.perf_counter() - started) * 1000 - model_ms)
    print(line(f"turn overhead, Key Vault, all in sequence ({model_ms:.0f} ms model call excl.)", naive))
    print(line("turn overhead, Key Vault, guard: write overlaps the model call", overlapped))
    guard.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.pii", description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=20, help="turns against the simulated Key Vault")
    parser.add_argument("--model-ms", type=float, default=300.0, help="simulated model call duration")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pii-bench-") as folder:
        bench_messages(Path(folder))
        bench_vaults(Path(folder), key_vault_ops=args.turns)
    bench_turns(args.turns, args.model_ms)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
