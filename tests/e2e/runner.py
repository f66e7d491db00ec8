"""Run the e2e conversations over HTTP and report pass rates by category.

``python -m tests.e2e.runner`` starts Azurite and the local host itself (like `make test`), or use
``--base-url http://127.0.0.1:7071`` against a running `make run`. ``--vendors`` runs the same conversations with
``SHOP_DATA=shopify`` and ``TICKET_DESK=zendesk`` pointed at the local stand-ins (``tests/e2e/vendors.py``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field

import httpx
import jwt

from tests.e2e.scenarios import SCENARIOS


@dataclass
class Outcome:
    scenario: str
    categories: list[str]
    failures: list[str] = field(default_factory=list)
    tickets: list[tuple[str, str]] = field(default_factory=list)  # (tenant, ticket id) of its escalations

    @property
    def passed(self) -> bool:
        return not self.failures


def check_turn(expect: dict, body: dict) -> list[str]:
    problems = []
    reply = body.get("reply", "")
    lowered = reply.lower()
    intents = expect["intent"]
    if intents and body.get("intent") not in ((intents,) if isinstance(intents, str) else intents):
        problems.append(f"intent {body.get('intent')} not in {intents}")
    for text in expect["contains"]:
        if text.lower() not in lowered:
            problems.append(f"reply lacks {text!r}")
    if expect["any_of"] and not any(t.lower() in lowered for t in expect["any_of"]):
        problems.append(f"reply has none of {expect['any_of']}")
    for text in expect["absent"]:
        if text.lower() in lowered:
            problems.append(f"reply contains {text!r}")
    if expect["language"] and body.get("language") != expect["language"]:
        problems.append(f"language {body.get('language')} != {expect['language']}")
    if expect["escalated"] is not None and body.get("escalation", {}).get("escalated") != expect["escalated"]:
        problems.append(f"escalated {body.get('escalation', {}).get('escalated')} != {expect['escalated']}")
    if expect["blocked"] is not None and body.get("guardrail", {}).get("blocked") != expect["blocked"]:
        problems.append(f"blocked {body.get('guardrail', {}).get('blocked')} != {expect['blocked']}")
    return problems


def signed_in(tenant: str, customer: dict) -> dict:
    """What the shop's widget sends for a signed-in customer: an identity token its back end signed with the
    shop's identity secret (CHAT_IDENTITY_SECRET_<TENANT>); without the secret, the customer as an unverified
    claim."""
    secret = os.environ.get(f"CHAT_IDENTITY_SECRET_{tenant.upper().replace('-', '_')}")
    if not secret:
        return {"customer": customer}
    now = int(time.time())
    claims = {"iat": now, "exp": now + 600, "email": customer.get("email"), "name": customer.get("name"),
              "external_id": customer.get("id")}
    return {"identity_token": jwt.encode({k: v for k, v in claims.items() if v}, secret, algorithm="HS256")}


def poll(client: httpx.Client, pending: dict, timeout: float = 120.0) -> httpx.Response:
    """A 202's status URL polled, as a client does, until the turn answers (or ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(pending["status_url"], headers={"X-Conversation-Token": pending["conversation_token"]})
        if response.status_code != 202 or time.monotonic() > deadline:
            return response
        time.sleep(0.3)


def run_scenario(client: httpx.Client, scenario: dict) -> Outcome:
    outcome = Outcome(scenario["id"], scenario["categories"])
    conversation_id, token = None, None
    for index, turn in enumerate(scenario["turns"]):
        payload: dict = {"message": turn["message"]}
        customer = turn["customer"] or scenario["customer"]
        if customer:
            payload.update(signed_in(scenario["tenant"], customer))
        if turn["locale"]:
            payload["locale"] = turn["locale"]
        headers = {}
        if conversation_id:
            payload["conversation_id"] = conversation_id
            headers["X-Conversation-Token"] = token
        response = client.post(f"/api/tenants/{scenario['tenant']}/chat", json=payload, headers=headers)
        pending = response.json() if response.status_code == 202 else None
        if pending:  # a turn slower than CHAT_WAIT_TIMEOUT_MS: its status URL answers when it is done
            response = poll(client, pending)
        if response.status_code != 200:
            outcome.failures.append(f"turn {index + 1}: HTTP {response.status_code}")
            break
        body = response.json()
        conversation_id = body["conversation_id"]
        token = body.get("conversation_token") or (pending or {}).get("conversation_token")
        ticket = (body.get("escalation") or {}).get("ticket_id")
        if ticket and (scenario["tenant"], ticket) not in outcome.tickets:
            outcome.tickets.append((scenario["tenant"], ticket))
        outcome.failures.extend(f"turn {index + 1}: {p} — reply: {body['reply'][:160]!r}"
                                for p in check_turn(turn, body))
    return outcome


def run_all(base_url: str) -> list[Outcome]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        return [run_scenario(client, s) for s in SCENARIOS]


def report(outcomes: list[Outcome]) -> str:
    by_category: dict[str, list[bool]] = defaultdict(list)
    for outcome in outcomes:
        for category in ["all", *outcome.categories]:
            by_category[category].append(outcome.passed)
    lines = [f"{'category':<14} {'passed':>7} {'total':>6} {'rate':>7}"]
    for category in ["all", "single", "multi_turn", "fr", "es", "escalation", "adversarial", "tenant"]:
        results = by_category.get(category, [])
        if results:
            lines.append(f"{category:<14} {sum(results):>7} {len(results):>6} {sum(results) / len(results):>7.1%}")
    for outcome in outcomes:
        for failure in outcome.failures:
            lines.append(f"FAIL {outcome.scenario}: {failure}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", default=None)
    parser.add_argument("--vendors", action="store_true", help="shops on the Shopify and Zendesk stand-ins")
    args = parser.parse_args()
    if args.vendors:
        from tests.e2e import vendors

        os.environ[vendors.SETTING] = "standins"
    if args.base_url:
        outcomes = run_all(args.base_url)
        print(report(outcomes))
        return 0
    import pytest

    return pytest.main(["-q", "-s", "tests/e2e/test_scenarios.py", "-p", "no:cacheprovider"])


if __name__ == "__main__":
    sys.exit(main())
