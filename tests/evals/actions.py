"""Order actions scored by the shop's final state, as τ-bench scores its retail domain.

    python -m tests.evals.actions [tests/evals/actions/<shop>.json ...]   # default: every task file there
    make eval-actions

A task file names a shop folder (the tenant layout: tenant.json, Shopify exports...), its tenant id and the day the
shop is seen on (``as_of``: the orders' dates are moved so that day is today, so return windows give the same
answers whenever the eval runs). Each task is a scripted customer: ``messages`` sent in one conversation over HTTP
(``lang`` is the locale sent, ``customer`` a customer the shop's back end signed in, or none), and ``expect``: the
shop's final state, as changes to the state it started in: per order ``cancelled``, ``address`` (address1, city,
zip), ``items`` (variant id -> quantity, 0 for a removed line), ``returns`` (the kinds opened: return, exchange),
``refunded`` (the total refunded), and ``tickets`` (how many the conversation opened). Every other order must be
left exactly as it was. A task passes when the whole state matches; the replies are not scored.

The local host is started on a free port (and Azurite too, unless ``TEST_AZURITE_CONNECTION_STRING`` names one
already running) with every shop imported (on the imported orders, the local
implementation of the shop port); before each task the shop's orders and stock are put back as imported. Pass rates
are printed per action, language, kind and shop.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt

REPO = Path(__file__).resolve().parents[2]
TASKS_DIR = REPO / "tests" / "evals" / "actions"
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
#: What a task may change and the eval puts back before the next one.
RESET_COLLECTIONS = ("orders", "inventory", "reservations")


@dataclass
class Outcome:
    task: str
    shop: str
    action: str
    lang: str
    kind: str
    failures: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


# The shop's state -----------------------------------------------------------------------------------------------------
def order_state(order: dict[str, Any]) -> dict[str, Any]:
    from core.integrations.order_changes import refunded_total, returns_of

    address = order.get("shipping_address") or {}
    return {"cancelled": bool(order.get("cancelled_at")),
            "address": {k: address.get(k) for k in ("address1", "city", "zip")},
            "items": {str(li.get("variant_id")): int(li.get("quantity") or 0) for li in order.get("line_items") or []},
            "returns": sorted(r["kind"] for r in returns_of(order)),
            "refunded": f"{refunded_total(order):.2f}"}


def shop_state(store, tenant: str) -> dict[str, dict[str, Any]]:
    return {d.id: order_state(d.body) for d in store.list(tenant, "orders", limit=100_000)}


def expected_state(before: dict[str, dict[str, Any]], changes: dict[str, dict[str, Any]]) -> dict[str, dict]:
    after = json.loads(json.dumps(before))
    for number, change in changes.items():
        order = after[number.lstrip("#")]
        for key, value in change.items():
            if key == "address":
                order["address"].update(value)
            elif key == "items":
                order["items"].update({str(k): int(v) for k, v in value.items()})
                order["items"] = {k: v for k, v in order["items"].items() if v > 0}
            elif key == "returns":
                order["returns"] = sorted(value)
            else:
                order[key] = value
    return after


def differences(expected: dict[str, dict], actual: dict[str, dict]) -> list[str]:
    out = []
    for number in sorted(set(expected) | set(actual)):
        want, got = expected.get(number), actual.get(number)
        if want == got:
            continue
        if want is None or got is None:
            out.append(f"order {number}: expected {want}, found {got}")
            continue
        out += [f"order {number} {key}: expected {want[key]!r}, found {got[key]!r}" for key in want
                if want[key] != got.get(key)]
    return out


# A shop seen on a given day -------------------------------------------------------------------------------------------
def _shift(value: Any, days: timedelta) -> Any:
    if isinstance(value, dict):
        return {k: _shift(v, days) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift(v, days) for v in value]
    if isinstance(value, str) and _TIMESTAMP.match(value):
        try:
            return (datetime.fromisoformat(value.replace("Z", "+00:00")) + days).isoformat()
        except ValueError:
            return value
    return value


def shop_as_of(folder: Path, as_of: str, destination: Path) -> Path:
    """A copy of the shop whose orders' dates are moved so that ``as_of`` is today."""
    shutil.copytree(folder, destination)
    days = timedelta(days=(datetime.now(UTC).date() - date.fromisoformat(as_of)).days)
    orders = destination / "orders.json"
    orders.write_text(json.dumps(_shift(json.loads(orders.read_text(encoding="utf-8")), days), ensure_ascii=False),
                      encoding="utf-8")
    return destination


# Running a task -------------------------------------------------------------------------------------------------------
def identity_secret(tenant: str) -> str:
    """The shop's identity secret on the eval's host (its back end signs its signed-in customers with it)."""
    return f"eval-actions-identity-secret-of-{tenant}"


def identity_token(secret: str, customer: dict) -> str:
    now = int(time.time())
    claims = {"iat": now, "exp": now + 600, "external_id": customer.get("id"), "email": customer.get("email"),
              "name": customer.get("name")}
    return jwt.encode({k: v for k, v in claims.items() if v}, secret, algorithm="HS256")


def _answer(client: httpx.Client, response: httpx.Response) -> tuple[httpx.Response, str | None]:
    """A slow turn's 202 polled until it answers, as a client does; the conversation token it gave."""
    if response.status_code != 202:
        return response, None
    pending = response.json()
    deadline = time.monotonic() + 120
    while response.status_code == 202 and time.monotonic() < deadline:
        time.sleep(0.3)
        response = client.get(pending["status_url"], headers={"X-Conversation-Token": pending["conversation_token"]})
    return response, pending["conversation_token"]


def converse(client: httpx.Client, tenant: str, secret: str, task: dict,
             replies: list[str]) -> tuple[list[str], list[str]]:
    """The task's messages in one conversation (the replies are appended to ``replies``); returns the conversation
    ids and any HTTP failure."""
    conversation_id, token, ids = None, None, []
    for index, message in enumerate(task["messages"]):
        payload: dict[str, Any] = {"message": message, "locale": task.get("lang")}
        if task.get("customer"):
            payload["identity_token"] = identity_token(secret, task["customer"])
        headers = {}
        if conversation_id:
            payload["conversation_id"] = conversation_id
            headers["X-Conversation-Token"] = token
        response, polled = _answer(client, client.post(f"/api/tenants/{tenant}/chat", json=payload,
                                                       headers=headers))
        if response.status_code != 200:
            return ids, [f"turn {index + 1}: HTTP {response.status_code} {response.text[:160]}"]
        body = response.json()
        conversation_id, token = body["conversation_id"], body.get("conversation_token") or polled
        escalation = body.get("escalation") or {}
        replies.append(body["reply"] + (f" [escalated: {escalation.get('reason')}]" if escalation.get("escalated")
                                        else ""))
        ids = [conversation_id]
    return ids, []


def reset(store, tenant: str, snapshot: dict[str, list]) -> None:
    for collection, documents in snapshot.items():
        kept = {d.id for d in documents}
        for stale in store.list(tenant, collection, limit=100_000):
            if stale.id not in kept:
                store.delete(tenant, collection, stale.id)
        for document in documents:
            store.put(tenant, collection, document.id, document.body)


def run_task(client: httpx.Client, store, shop: dict, task: dict, snapshot: dict[str, list]) -> Outcome:
    tenant = shop["tenant"]
    outcome = Outcome(task["id"], tenant, task["action"], task.get("lang") or "en", task["kind"])
    reset(store, tenant, snapshot)
    before = shop_state(store, tenant)
    ids, outcome.failures = converse(client, tenant, identity_secret(tenant), task, outcome.replies)
    if outcome.failures:
        return outcome
    expect = task.get("expect") or {}
    outcome.failures += differences(expected_state(before, expect.get("orders") or {}), shop_state(store, tenant))
    tickets = sum(store.get(tenant, "tickets", i) is not None for i in ids)
    if tickets != expect.get("tickets", 0):
        outcome.failures.append(f"tickets: expected {expect.get('tickets', 0)}, found {tickets}")
    return outcome


# Report ---------------------------------------------------------------------------------------------------------------
def report(outcomes: list[Outcome], *, replies: bool = False) -> str:
    lines = []
    for title, key in (("action", "action"), ("language", "lang"), ("kind", "kind"), ("shop", "shop")):
        groups: dict[str, list[bool]] = defaultdict(list)
        for outcome in outcomes:
            groups[getattr(outcome, key)].append(outcome.passed)
        lines.append(f"{title:<24} {'passed':>7} {'tasks':>6} {'rate':>7}")
        for name, results in sorted(groups.items()):
            lines.append(f"{name:<24} {sum(results):>7} {len(results):>6} {sum(results) / len(results):>7.1%}")
        lines.append("")
    total = [o.passed for o in outcomes]
    lines.append(f"{'all':<24} {sum(total):>7} {len(total):>6} {sum(total) / max(len(total), 1):>7.1%}")
    for outcome in outcomes:
        lines += [f"FAIL {outcome.task} [{outcome.lang}] {f}" for f in outcome.failures]
        if replies and outcome.failures:
            lines += [f"    reply {i + 1}: {r[:160]!r}…{r[-60:]!r}" for i, r in enumerate(outcome.replies)]
    return "\n".join(lines)


def load(files: list[Path]) -> list[dict]:
    shops = []
    for path in files:
        shop = json.loads(path.read_text(encoding="utf-8"))
        shop["folder"] = (REPO / shop["folder"]).resolve()
        shops.append(shop)
    return shops


def evaluate(shops: list[dict], only: str | None = None) -> list[Outcome]:
    from core.devhost import azurite
    from core.stores.sqlite_store import SqliteDocumentStore
    from tests.integration.hosting import HostProcess, free_port, host_env

    os.environ.setdefault("FUNCTIONS_WORKER_RUNTIME", "python")
    from core.config import load_local_settings

    load_local_settings(REPO / "local.settings.sample.json")
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="actions-eval-") as tmp:
        storage = os.environ.get("TEST_AZURITE_CONNECTION_STRING")  # an Azurite already running (make test's)
        if not storage:
            ports = (free_port(), free_port(), free_port())
            azurite.start(Path(tmp) / "azurite", *ports)
            storage = azurite.connection_string(*ports)
        try:
            secrets = {f"CHAT_IDENTITY_SECRET_{s['tenant'].upper().replace('-', '_')}": identity_secret(s["tenant"])
                       for s in shops}
            env = host_env(storage, Path(tmp) / "data", **secrets)
            for shop in shops:
                folder = shop_as_of(shop["folder"], shop["as_of"], Path(tmp) / "shops" / shop["tenant"])
                subprocess.run([sys.executable, "-m", "core.tenants", "import", shop["tenant"], str(folder)],
                               cwd=REPO, env=env, check=True, capture_output=True)
            store = SqliteDocumentStore(Path(tmp) / "data" / "documents.sqlite")
            host = HostProcess(env, REPO, "function_app", Path(tmp) / "host.log")
            host.start()
            try:
                with httpx.Client(base_url=host.base, timeout=90) as client:
                    for shop in shops:
                        snapshot = {c: store.list(shop["tenant"], c, limit=100_000) for c in RESET_COLLECTIONS}
                        for task in shop["tasks"]:
                            if only and not re.search(only, task["id"]):
                                continue
                            outcome = run_task(client, store, shop, task, snapshot)
                            print(f"{'pass' if outcome.passed else 'FAIL'} {task['id']}", flush=True)
                            outcomes.append(outcome)
            finally:
                host.stop()
        finally:
            if (Path(tmp) / "azurite").exists():
                azurite.stop(Path(tmp) / "azurite")
    return outcomes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="task files (default: every tests/evals/actions/*.json)")
    parser.add_argument("--only", default=None, help="run the tasks whose id matches this regular expression")
    parser.add_argument("--replies", action="store_true", help="print the replies of the failed tasks")
    args = parser.parse_args()
    outcomes = evaluate(load(args.files or sorted(TASKS_DIR.glob("*.json"))), args.only)
    print(report(outcomes, replies=args.replies), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
