"""SQLite persistence of one task hub (stdlib `sqlite3`, WAL, one connection used from the event loop).

Tables:
- `instances`: one row per orchestration instance (status, input/output/custom status as JSON text, parent link
  for sub-orchestrations, and `state`: the engine's per-execution bookkeeping as JSON, see `engine.py`);
- `history`: the current execution's history events (JSON list);
- `inbox`: new events not yet applied to history (ExecutionStarted, completions, raised events, timer firings),
  ordered by `seq`; completions carry the execution id they belong to, raised events target the instance;
- `work`: outstanding work of an execution: activities scheduled but not completed, timers not fired,
  sub-orchestrations not finished.

Every state change the engine makes is one transaction, so after a crash (even `kill -9`) a new engine on the
same file re-dispatches `work` and applies `inbox` and nothing is lost or applied twice.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .history import format_timestamp, parse_timestamp

try:  # an OS lock on "<db>.lock" makes one engine the only dispatcher of a file; the OS drops it on kill -9
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt

__all__ = ["DurableStore", "InboxRow", "InstanceRow", "WorkRow", "TERMINAL_STATUSES", "RUNTIME_STATUSES"]

RUNTIME_STATUSES = ("Pending", "Running", "Completed", "Failed", "Terminated", "ContinuedAsNew", "Suspended")
TERMINAL_STATUSES = frozenset({"Completed", "Failed", "Terminated"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS instances (
    instance_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    version TEXT,
    execution_id TEXT NOT NULL,
    status TEXT NOT NULL,
    input TEXT,
    output TEXT,
    custom_status TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    parent_instance_id TEXT,
    parent_execution_id TEXT,
    parent_task_id INTEGER,
    state TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS instances_status ON instances(status);
CREATE INDEX IF NOT EXISTS instances_created ON instances(created_at);
CREATE TABLE IF NOT EXISTS history (
    instance_id TEXT PRIMARY KEY,
    events TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS inbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL,
    execution_id TEXT,
    event TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS inbox_instance ON inbox(instance_id, seq);
CREATE TABLE IF NOT EXISTS work (
    instance_id TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    task_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (instance_id, execution_id, task_id)
);
"""

#: Histories kept in memory with each event's JSON text (the running instances' in practice): an episode reads
#: its instance's history, replays it and writes it back longer, and only the new events are parsed or encoded.
HISTORY_CACHE_SIZE = 512

_INSTANCE_COLUMNS = (
    "instance_id", "name", "version", "execution_id", "status", "input", "output", "custom_status",
    "created_at", "updated_at", "parent_instance_id", "parent_execution_id", "parent_task_id", "state",
)


@dataclass
class InstanceRow:
    """One orchestration instance. JSON-valued fields hold JSON text (None = absent)."""

    instance_id: str
    name: str
    execution_id: str
    status: str
    created_at: datetime
    updated_at: datetime
    input: str | None = None
    output: str | None = None
    custom_status: str | None = None
    version: str | None = None
    parent_instance_id: str | None = None
    parent_execution_id: str | None = None
    parent_task_id: int | None = None
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


@dataclass(frozen=True)
class InboxRow:
    seq: int
    instance_id: str
    execution_id: str | None
    event: dict[str, Any]


@dataclass(frozen=True)
class WorkRow:
    instance_id: str
    execution_id: str
    task_id: int
    kind: str  # "activity" | "timer" | "suborchestration"
    payload: dict[str, Any]


class DurableStore:
    """Synchronous store; call it from one thread (the engine's event loop)."""

    def __init__(self, path: str | Path, task_hub: str | None = None, *, synchronous: str = "NORMAL") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives process crashes (kill -9); FULL also survives power loss.
        self._conn.execute(f"PRAGMA synchronous={synchronous}")
        self._conn.execute("PRAGMA busy_timeout=5000")
        self._depth = 0
        self._lease: Any = None
        #: instance id -> (history events, each event's JSON text), as last written or read. Events are never
        #: changed in place (a new history is a new list of the same and new event dicts), so a cached event's
        #: text stays its JSON.
        self._histories: OrderedDict[str, tuple[list[dict[str, Any]], list[str]]] = OrderedDict()
        #: Called with an instance id and what a status read shows of it (runtime status, custom status, output)
        #: whenever its row is written, or with None when it is deleted (the engine wakes its watchers).
        self.on_instance_written: Any = None
        self._conn.executescript(_SCHEMA)
        self.task_hub = self._claim_task_hub(task_hub)

    # -- plumbing -------------------------------------------------------------------------------------------
    def close(self) -> None:
        self.release_lease()
        self._conn.close()

    def acquire_lease(self) -> None:
        """Become the only engine dispatching this file (other processes and stores get RuntimeError).

        Two engines on one file would both re-run recovered activities and race on the inbox. The lock is an
        OS file lock, so a killed process never leaves a stale lease behind."""
        if self._lease is not None or self.path == ":memory:":
            return
        handle = open(self.path + ".lock", "a+b")  # held open for the lease lifetime
        try:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            else:  # pragma: no cover - Windows
                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError as exc:
            handle.close()
            raise RuntimeError(
                f"another durable engine is already running on {self.path} (pid file lock held); "
                "stop it first or use another DATA_DIR / task hub"
            ) from exc
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()).encode())
        handle.flush()
        self._lease = handle

    def release_lease(self) -> None:
        if self._lease is None:
            return
        try:
            if fcntl is not None:
                fcntl.flock(self._lease.fileno(), fcntl.LOCK_UN)
        finally:
            self._lease.close()
            self._lease = None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes atomically; nested use joins the outer transaction."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self._histories.clear()  # histories written in the transaction are not the file's
            self._conn.execute("ROLLBACK")
            raise
        self._depth = 0
        self._conn.execute("COMMIT")

    def _claim_task_hub(self, task_hub: str | None) -> str:
        row = self._conn.execute("SELECT value FROM meta WHERE key='task_hub'").fetchone()
        if row is None:
            hub = task_hub or "TestHubName"
            self._conn.execute("INSERT INTO meta(key, value) VALUES('task_hub', ?)", (hub,))
            return hub
        if task_hub is not None and row[0] != task_hub:
            raise ValueError(f"{self.path} holds task hub {row[0]!r}, not {task_hub!r}: use one file per task hub")
        return row[0]

    # -- instances ------------------------------------------------------------------------------------------
    def get_instance(self, instance_id: str) -> InstanceRow | None:
        row = self._conn.execute(
            f"SELECT {', '.join(_INSTANCE_COLUMNS)} FROM instances WHERE instance_id=?", (instance_id,)
        ).fetchone()
        return _instance_from_row(row) if row else None

    def has_instance(self, instance_id: str) -> bool:
        return self._conn.execute("SELECT 1 FROM instances WHERE instance_id=?", (instance_id,)).fetchone() is not None

    def put_instance(self, inst: InstanceRow) -> None:
        values = (
            inst.instance_id, inst.name, inst.version, inst.execution_id, inst.status, inst.input, inst.output,
            inst.custom_status, format_timestamp(inst.created_at), format_timestamp(inst.updated_at),
            inst.parent_instance_id, inst.parent_execution_id, inst.parent_task_id, json.dumps(inst.state),
        )
        placeholders = ", ".join("?" for _ in _INSTANCE_COLUMNS)
        self._conn.execute(
            f"INSERT OR REPLACE INTO instances({', '.join(_INSTANCE_COLUMNS)}) VALUES({placeholders})", values
        )
        if self.on_instance_written is not None:
            self.on_instance_written(inst.instance_id, (inst.status, inst.custom_status, inst.output))

    def list_instances(
        self,
        *,
        statuses: Iterable[str] | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        prefix: str | None = None,
        limit: int | None = None,
    ) -> list[InstanceRow]:
        clauses: list[str] = []
        args: list[Any] = []
        if statuses is not None:
            wanted = list(statuses)
            if not wanted:
                return []
            clauses.append(f"status IN ({', '.join('?' for _ in wanted)})")
            args.extend(wanted)
        if created_from is not None:
            clauses.append("created_at >= ?")
            args.append(format_timestamp(created_from))
        if created_to is not None:
            clauses.append("created_at <= ?")
            args.append(format_timestamp(created_to))
        if prefix:
            clauses.append("substr(instance_id, 1, ?) = ?")
            args.extend([len(prefix), prefix])
        sql = f"SELECT {', '.join(_INSTANCE_COLUMNS)} FROM instances"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY created_at, instance_id"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        return [_instance_from_row(r) for r in self._conn.execute(sql, args).fetchall()]

    def delete_instance(self, instance_id: str) -> bool:
        """Remove an instance with its history, inbox and outstanding work."""
        with self.transaction():
            cur = self._conn.execute("DELETE FROM instances WHERE instance_id=?", (instance_id,))
            self.clear_execution_data(instance_id)
        if self.on_instance_written is not None:
            self.on_instance_written(instance_id, None)
        return cur.rowcount > 0

    def clear_execution_data(self, instance_id: str) -> None:
        self._histories.pop(instance_id, None)
        with self.transaction():
            self._conn.execute("DELETE FROM history WHERE instance_id=?", (instance_id,))
            self._conn.execute("DELETE FROM inbox WHERE instance_id=?", (instance_id,))
            self._conn.execute("DELETE FROM work WHERE instance_id=?", (instance_id,))

    # -- history --------------------------------------------------------------------------------------------
    def get_history(self, instance_id: str) -> list[dict[str, Any]]:
        return list(self._cached_history(instance_id)[0])

    def history_texts(self, instance_id: str, events: list[dict[str, Any]]) -> list[str]:
        """Each event's JSON text, for ``events`` as ``get_history`` returned them."""
        cached, texts = self._cached_history(instance_id)
        if len(cached) == len(events) and all(a is b for a, b in zip(cached, events, strict=True)):
            return texts
        return [json.dumps(e) for e in events]

    def _cached_history(self, instance_id: str) -> tuple[list[dict[str, Any]], list[str]]:
        cached = self._histories.get(instance_id)
        if cached is not None:
            self._histories.move_to_end(instance_id)
            return cached
        row = self._conn.execute("SELECT events FROM history WHERE instance_id=?", (instance_id,)).fetchone()
        events = json.loads(row[0]) if row else []
        cached = (events, [json.dumps(e) for e in events])
        self._remember(instance_id, cached)
        return cached

    def set_history(self, instance_id: str, events: list[dict[str, Any]]) -> None:
        """Write the history; the events already written (the same objects) keep their JSON text."""
        before = self._histories.get(instance_id)
        same = 0
        if before is not None:
            old_events, old_texts = before
            limit = min(len(old_events), len(events))
            while same < limit and events[same] is old_events[same]:
                same += 1
            texts = old_texts[:same] + [json.dumps(e) for e in events[same:]]
        else:
            texts = [json.dumps(e) for e in events]
        self._conn.execute("INSERT OR REPLACE INTO history(instance_id, events) VALUES(?, ?)",
                           (instance_id, "[" + ", ".join(texts) + "]"))
        self._remember(instance_id, (list(events), texts))

    def _remember(self, instance_id: str, history: tuple[list[dict[str, Any]], list[str]]) -> None:
        self._histories[instance_id] = history
        self._histories.move_to_end(instance_id)
        while len(self._histories) > HISTORY_CACHE_SIZE:
            self._histories.popitem(last=False)

    # -- inbox ----------------------------------------------------------------------------------------------
    def enqueue(self, instance_id: str, event: dict[str, Any], execution_id: str | None = None) -> int:
        cur = self._conn.execute(
            "INSERT INTO inbox(instance_id, execution_id, event) VALUES(?, ?, ?)",
            (instance_id, execution_id, json.dumps(event)),
        )
        return int(cur.lastrowid)

    def inbox_for(self, instance_id: str) -> list[InboxRow]:
        rows = self._conn.execute(
            "SELECT seq, instance_id, execution_id, event FROM inbox WHERE instance_id=? ORDER BY seq",
            (instance_id,),
        ).fetchall()
        return [InboxRow(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def inbox_exists(self, seqs: Iterable[int]) -> bool:
        wanted = list(seqs)
        if not wanted:
            return True
        count = self._conn.execute(
            f"SELECT COUNT(*) FROM inbox WHERE seq IN ({', '.join('?' for _ in wanted)})", wanted
        ).fetchone()[0]
        return count == len(wanted)

    def delete_inbox(self, seqs: Iterable[int]) -> None:
        self._conn.executemany("DELETE FROM inbox WHERE seq=?", [(s,) for s in seqs])

    def delete_inbox_for_execution(self, instance_id: str, execution_id: str) -> None:
        self._conn.execute("DELETE FROM inbox WHERE instance_id=? AND execution_id=?", (instance_id, execution_id))

    def instances_with_inbox(self) -> list[str]:
        rows = self._conn.execute("SELECT instance_id, MIN(seq) AS first FROM inbox GROUP BY instance_id "
                                  "ORDER BY first").fetchall()
        return [r[0] for r in rows]

    # -- outstanding work -----------------------------------------------------------------------------------
    def add_work(self, instance_id: str, execution_id: str, task_id: int, kind: str, payload: dict[str, Any]) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO work(instance_id, execution_id, task_id, kind, payload) VALUES(?, ?, ?, ?, ?)",
            (instance_id, execution_id, task_id, kind, json.dumps(payload)),
        )

    def take_work(self, instance_id: str, execution_id: str, task_id: int) -> bool:
        """Delete one outstanding work item; False if it was not outstanding (stale or duplicate completion)."""
        cur = self._conn.execute(
            "DELETE FROM work WHERE instance_id=? AND execution_id=? AND task_id=?",
            (instance_id, execution_id, task_id),
        )
        return cur.rowcount > 0

    def list_work(self, instance_id: str | None = None) -> list[WorkRow]:
        sql = "SELECT instance_id, execution_id, task_id, kind, payload FROM work"
        args: tuple[Any, ...] = ()
        if instance_id is not None:
            sql += " WHERE instance_id=?"
            args = (instance_id,)
        sql += " ORDER BY instance_id, task_id"
        return [WorkRow(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in self._conn.execute(sql, args).fetchall()]

    def delete_work_for(self, instance_id: str) -> None:
        self._conn.execute("DELETE FROM work WHERE instance_id=?", (instance_id,))


def _instance_from_row(row: tuple[Any, ...]) -> InstanceRow:
    data = dict(zip(_INSTANCE_COLUMNS, row, strict=True))
    return InstanceRow(
        instance_id=data["instance_id"],
        name=data["name"],
        version=data["version"],
        execution_id=data["execution_id"],
        status=data["status"],
        input=data["input"],
        output=data["output"],
        custom_status=data["custom_status"],
        created_at=parse_timestamp(data["created_at"]),
        updated_at=parse_timestamp(data["updated_at"]),
        parent_instance_id=data["parent_instance_id"],
        parent_execution_id=data["parent_execution_id"],
        parent_task_id=data["parent_task_id"],
        state=json.loads(data["state"]),
    )
