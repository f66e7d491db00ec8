"""ACID where money and tickets are involved: reservations never oversell, status transitions are
compare-and-set, one ticket per conversation and one assignee per ticket — under real thread contention."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from core.agents.escalation import open_ticket, ticket_id_for
from core.stores.memory_store import MemoryDocumentStore
from core.stores.ports import ConcurrencyError
from core.stores.sqlite_store import SqliteDocumentStore
from core.stores.transactions import (
    AlreadyAssigned,
    InvalidTransition,
    OutOfStock,
    UnknownItem,
    assign_ticket,
    commit_reservation,
    release_reservation,
    reserve_inventory,
    set_inventory,
    transition_order,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["memory", "sqlite"])
def make_store(request, tmp_path):
    """A factory: SQLite gives each worker its own connection to one database file, as separate workers would."""
    if request.param == "memory":
        shared = MemoryDocumentStore()
        return lambda: shared
    path = tmp_path / "acid.sqlite"
    return lambda: SqliteDocumentStore(path)


def run_parallel(n: int, fn):
    barrier = threading.Barrier(n)

    def call(i):
        barrier.wait()
        try:
            return ("ok", fn(i))
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test counts
            return ("error", exc)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(call, range(n)))


def test_fifty_parallel_reservations_against_ten_units_never_oversell(make_store):
    set_inventory(make_store(), "shop", "v-1", 10)
    stores = [make_store() for _ in range(50)]
    outcomes = run_parallel(50, lambda i: reserve_inventory(stores[i], "shop", "v-1", 1, f"r-{i}"))
    won = [r for status, r in outcomes if status == "ok"]
    lost = [e for status, e in outcomes if status == "error"]
    assert len(won) == 10 and all(isinstance(e, OutOfStock) for e in lost) and len(lost) == 40
    store = make_store()
    level = store.get("shop", "inventory", "v-1").body
    assert level["available"] == 0 and level["reserved"] == 10
    held = store.list("shop", "reservations", limit=100)
    assert sorted(d.id for d in held) == sorted(r.id for r in won)


def test_reservations_are_idempotent_and_settle_once(make_store):
    store = make_store()
    set_inventory(store, "shop", "v-2", 3)
    first = reserve_inventory(store, "shop", "v-2", 2, "cart-1")
    again = reserve_inventory(store, "shop", "v-2", 2, "cart-1")  # a retried request
    assert first == again and store.get("shop", "inventory", "v-2").body["available"] == 1
    with pytest.raises(OutOfStock) as short:
        reserve_inventory(store, "shop", "v-2", 2, "cart-2")
    assert short.value.available == 1
    assert release_reservation(store, "shop", "cart-1").status == "released"
    assert release_reservation(store, "shop", "cart-1").status == "released"
    assert store.get("shop", "inventory", "v-2").body == {**store.get("shop", "inventory", "v-2").body,
                                                           "available": 3, "reserved": 0}
    reserve_inventory(store, "shop", "v-2", 3, "cart-3")
    assert commit_reservation(store, "shop", "cart-3").status == "committed"
    with pytest.raises(InvalidTransition):
        release_reservation(store, "shop", "cart-3")
    level = store.get("shop", "inventory", "v-2").body
    assert level["available"] == 0 and level["reserved"] == 0


def test_inventory_is_seeded_from_the_tenants_own_catalogue():
    store = MemoryDocumentStore()
    for tenant, folder in (("demo", REPO / "knowledge/tenants/demo"),
                           ("northwind-tea", REPO / "tests/fixtures/tenants/northwind-tea")):
        for product in json.loads((folder / "products.json").read_text())["products"]:
            store.put(tenant, "products", str(product["id"]), product)
    demo = store.list("demo", "products", limit=1)[0].body
    variant = next(v for v in demo["variants"] if v.get("inventory_management") and v["inventory_quantity"] > 0)
    reservation = reserve_inventory(store, "demo", str(variant["id"]), 1, "seed-1")
    assert reservation.status == "held"
    level = store.get("demo", "inventory", str(variant["id"])).body
    assert level["available"] == variant["inventory_quantity"] - 1 and level["sku"] == variant["sku"]
    with pytest.raises(UnknownItem):  # the other tenant's variant does not exist here
        reserve_inventory(store, "northwind-tea", str(variant["id"]), 1, "seed-2")


def test_twenty_parallel_escalations_create_exactly_one_ticket(make_store):
    stores = [make_store() for _ in range(20)]
    outcomes = run_parallel(20, lambda i: open_ticket(
        stores[i], tenant_id="shop", conversation_id="conv-1", reason=f"reason-{i}", language="en",
        transcript=[{"user": "help"}], customer=None, priority="normal", created_at="2026-01-01T00:00:00Z"))
    assert all(status == "ok" for status, _ in outcomes)
    tickets = {result.ticket_id for _, result in outcomes}
    reasons = {result.reason for _, result in outcomes}
    assert tickets == {ticket_id_for("shop", "conv-1")} and len(reasons) == 1
    store = make_store()
    assert store.count("shop", "tickets") == 1
    saved = store.get("shop", "tickets", "conv-1").body
    assert saved["reason"] in reasons and saved["desk_sync"] == "pending"


def test_ticket_assignment_has_one_winner(make_store):
    store = make_store()
    open_ticket(store, tenant_id="shop", conversation_id="conv-2", reason="complaint", language="en",
                transcript=[], customer=None, priority="high", created_at="2026-01-01T00:00:00Z")
    stores = [make_store() for _ in range(20)]
    outcomes = run_parallel(20, lambda i: assign_ticket(stores[i], "shop", "conv-2", f"agent-{i}"))
    winners = [r for s, r in outcomes if s == "ok"]
    assert len(winners) == 1 and all(isinstance(e, AlreadyAssigned) for s, e in outcomes if s == "error")
    winner = winners[0]["assignee"]
    assert assign_ticket(make_store(), "shop", "conv-2", winner)["assignee"] == winner  # idempotent
    with pytest.raises(AlreadyAssigned):
        assign_ticket(make_store(), "shop", "conv-2", "someone-else")


def test_payment_status_transitions_are_compare_and_set(make_store):
    store = make_store()
    store.put("shop", "orders", "1001", {"order_number": 1001, "financial_status": "pending",
                                         "fulfillment_status": None})
    stores = [make_store() for _ in range(20)]
    outcomes = run_parallel(20, lambda i: transition_order(stores[i], "shop", "1001", "financial_status", "paid",
                                                           event_id=f"payment-{i}"))
    assert sum(1 for s, _ in outcomes if s == "ok") == 1
    assert all(isinstance(e, InvalidTransition) for s, e in outcomes if s == "error")
    order = make_store().get("shop", "orders", "1001").body
    assert order["financial_status"] == "paid" and len(order["shopdesk_status_history"]) == 1
    # A redelivered event is a no-op; illegal moves are refused; refunds may be partial then full.
    winner_event = order["shopdesk_status_history"][0]["event_id"]
    assert transition_order(store, "shop", "1001", "financial_status", "paid", event_id=winner_event) == order
    with pytest.raises(InvalidTransition):
        transition_order(store, "shop", "1001", "financial_status", "pending")
    transition_order(store, "shop", "1001", "financial_status", "partially_refunded", event_id="rf-1")
    transition_order(store, "shop", "1001", "financial_status", "partially_refunded", event_id="rf-2")
    assert transition_order(store, "shop", "1001", "financial_status", "refunded", event_id="rf-3")[
        "financial_status"] == "refunded"
    with pytest.raises(InvalidTransition):
        transition_order(store, "shop", "1001", "financial_status", "paid", event_id="late")
    transition_order(store, "shop", "1001", "fulfillment_status", "partial")
    assert transition_order(store, "shop", "1001", "fulfillment_status", "fulfilled")["fulfillment_status"] == \
        "fulfilled"
    with pytest.raises(UnknownItem):
        transition_order(store, "shop", "9999", "financial_status", "paid")


def test_contention_gives_up_with_a_concurrency_error():
    class AlwaysStale(MemoryDocumentStore):
        def put(self, *args, **kwargs):
            if kwargs.get("if_match"):
                raise ConcurrencyError("stale")
            return super().put(*args, **kwargs)

    store = AlwaysStale()
    store.put("shop", "orders", "1", {"financial_status": "pending"})
    with pytest.raises(ConcurrencyError):
        transition_order(store, "shop", "1", "financial_status", "paid", attempts=3)
