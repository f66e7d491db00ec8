"""The project's e2e conversations over HTTP against the local host; prints the pass rate by category. With
``E2E_VENDORS=standins`` (``make eval-e2e-vendors``) the shops are on the Shopify and Zendesk stand-ins, and every
escalation must also reach the Zendesk stand-in as a ticket."""

from __future__ import annotations

import time

import pytest

from tests.e2e.runner import report, run_all
from tests.e2e.scenarios import SCENARIOS
from tests.e2e.vendors import desk_has

pytestmark = pytest.mark.integration

REQUIRED_PASS_RATE = 0.95


def test_scenario_suite_shape():
    categories = [c for s in SCENARIOS for c in s["categories"]]
    assert len(SCENARIOS) >= 40
    assert sum(len(s["turns"]) > 1 for s in SCENARIOS) >= 10
    for category, minimum in (("fr", 8), ("es", 8), ("escalation", 8), ("adversarial", 10)):
        assert categories.count(category) >= minimum, category


@pytest.fixture(scope="module")
def outcomes(app_host):
    return run_all(app_host.base)


def test_scenarios_pass(app_host, outcomes):
    text = report(outcomes)
    if app_host.standins is not None:
        text = "on the Shopify and Zendesk stand-ins\n" + text
    print("\n" + text)
    rate = sum(o.passed for o in outcomes) / len(outcomes)
    assert rate >= REQUIRED_PASS_RATE, text


def test_every_escalation_reaches_the_zendesk_stand_in(app_host, outcomes):
    if app_host.standins is None:
        pytest.skip("the shops are on the local implementation (E2E_VENDORS=standins puts them on the stand-ins)")
    tickets = {t for o in outcomes for t in o.tickets}
    assert len(tickets) >= 8  # the suite's escalation scenarios
    deadline = time.monotonic() + 60
    missing = tickets
    while missing and time.monotonic() < deadline:
        missing = {(tenant, ticket) for tenant, ticket in missing if not desk_has(app_host.standins, tenant, ticket)}
        time.sleep(0.5)
    assert not missing, f"escalations with no ticket in the desk: {sorted(missing)}"
