"""The project's e2e conversations over HTTP against the local host; prints the pass rate by category."""

from __future__ import annotations

import pytest

from tests.e2e.runner import report, run_all
from tests.e2e.scenarios import SCENARIOS

pytestmark = pytest.mark.integration

REQUIRED_PASS_RATE = 0.95


def test_scenario_suite_shape():
    categories = [c for s in SCENARIOS for c in s["categories"]]
    assert len(SCENARIOS) >= 40
    assert sum(len(s["turns"]) > 1 for s in SCENARIOS) >= 10
    for category, minimum in (("fr", 8), ("es", 8), ("escalation", 8), ("adversarial", 10)):
        assert categories.count(category) >= minimum, category


def test_scenarios_pass(app_host):
    outcomes = run_all(app_host.base)
    text = report(outcomes)
    print("\n" + text)
    rate = sum(o.passed for o in outcomes) / len(outcomes)
    assert rate >= REQUIRED_PASS_RATE, text
