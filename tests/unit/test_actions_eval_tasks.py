"""The state-checked order-action tasks (``make eval-actions``): enough of them, over two shops, in the three
languages, for every action and kind of task, each naming orders its shop has; and the harness's scoring of a final
state."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

from core.actions import tools
from tests.conftest import REPO
from tests.evals import actions

SHOPS = actions.load(sorted(actions.TASKS_DIR.glob("*.json")))
TASKS = [task for shop in SHOPS for task in shop["tasks"]]


def test_the_tasks_cover_two_shops_three_languages_every_action_and_kind():
    assert len(TASKS) >= 40 and len(SHOPS) >= 2 and len({t["id"] for t in TASKS}) == len(TASKS)
    assert set(Counter(t["lang"] for t in TASKS)) == {"en", "fr-CA", "es"}
    assert {t["action"] for t in TASKS} == set(tools.TOOLS)
    kinds = Counter(t["kind"] for t in TASKS)
    for kind in ("happy", "not_authenticated", "refusal_shipped", "refusal_return_window", "refusal_refund_limit",
                 "policy_edge", "someone_else", "skip_confirmation", "changed_mind"):
        assert kinds[kind] >= 2, kind


def test_every_expected_order_is_one_of_its_shops_orders():
    for shop in SHOPS:
        orders = json.loads((shop["folder"] / "orders.json").read_text(encoding="utf-8"))
        numbers = {str(o.get("order_number") or o["name"].lstrip("#")) for o in orders.get("orders", orders)}
        for task in shop["tasks"]:
            assert set(task["expect"]["orders"]) <= numbers, task["id"]


def test_a_state_differing_anywhere_from_the_expected_one_fails():
    before = {"1038": {"cancelled": False, "address": {"address1": "1 A St", "city": "X", "zip": "1"},
                       "items": {"7": 2, "8": 1}, "returns": [], "refunded": "0.00"},
              "1039": {"cancelled": False, "address": {"address1": "2 B St", "city": "Y", "zip": "2"},
                       "items": {"9": 1}, "returns": [], "refunded": "0.00"}}
    expected = actions.expected_state(before, {"1038": {"items": {"8": 0}, "refunded": "5.00"}})
    assert expected["1038"]["items"] == {"7": 2} and expected["1039"] == before["1039"]
    assert actions.differences(expected, expected) == []
    touched = json.loads(json.dumps(expected))
    touched["1039"]["cancelled"] = True  # an order the task never named
    assert actions.differences(expected, touched) == ["order 1039 cancelled: expected False, found True"]


def test_a_shop_is_seen_as_it_was_on_its_day(tmp_path):
    copy = actions.shop_as_of(REPO / "knowledge/tenants/demo", "2026-11-25", tmp_path / "demo")
    orders = json.loads((copy / "orders.json").read_text(encoding="utf-8"))
    orders = orders.get("orders", orders)
    latest = max(datetime.fromisoformat(o["created_at"]) for o in orders)
    # The newest order was placed on 2026-11-21, four days before the shop's day, whatever today is.
    assert (datetime.now(UTC).date() - latest.date()).days == 4
