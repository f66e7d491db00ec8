"""A shop the desk has never seen, end to end: import its folder, ask its questions over HTTP, score the replies.

    python -m tests.evals.shops tests/evals/shops/<tenant-id>   # <tenant-id>.questions.json lies beside it
    make eval-shops                                             # every shop under tests/evals/shops

A shop folder follows the tenant layout (tenant.json, Shopify exports, policies/ and articles/). Its questions
file (``<folder>.questions.json``) lists conversations: each turn's ``expect`` holds ``all`` (facts the reply must
contain, each a list of accepted spellings, matched case-insensitively), ``absent`` (strings it must not contain),
``escalated`` / ``blocked`` (true, false or null for either). A conversation passes when every turn does. A
conversation's ``customer`` is signed in the way a shop's back end does it (an identity token signed with the
tenant's identity secret, which this harness sets).

Azurite and the local host are started on free ports, as the integration tests do; figures are printed per
language (the conversation's ``lang``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import jwt

REPO = Path(__file__).resolve().parents[2]
SHOPS_DIR = REPO / "tests" / "evals" / "shops"
LANGUAGES = ("en", "fr-CA", "es")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in text if not unicodedata.combining(c)).replace("\u00a0", " ").replace("\u202f", " ")


@dataclass
class Outcome:
    conversation: str
    lang: str
    turns: int = 0
    turns_passed: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def check_turn(expect: dict, body: dict) -> list[str]:
    reply = _fold(body.get("reply", ""))
    problems = [f"lacks {spellings[0]!r}" for spellings in expect.get("all", [])
                if not any(_fold(s) in reply for s in spellings)]
    problems += [f"contains {text!r}" for text in expect.get("absent", []) if _fold(text) in reply]
    escalated = expect.get("escalated")
    escalation = body.get("escalation") or {}
    if escalated is not None and bool(escalation.get("escalated")) != escalated:
        problems.append(f"escalated is not {escalated} (reason {escalation.get('reason')}, intent "
                        f"{body.get('intent')})")
    blocked = expect.get("blocked")
    guardrail = body.get("guardrail") or {}
    if blocked is not None and bool(guardrail.get("blocked")) != blocked:
        problems.append(f"blocked is not {blocked} (reasons {guardrail.get('reasons')}, escalation "
                        f"{escalation.get('reason')})")
    return problems


def identity_token(secret: str, customer: dict) -> str:
    now = int(time.time())
    claims = {"iat": now, "exp": now + 600, "external_id": customer.get("id"), "email": customer.get("email"),
              "name": customer.get("name")}
    return jwt.encode({k: v for k, v in claims.items() if v}, secret, algorithm="HS256")


def run_conversation(client: httpx.Client, tenant: str, secret: str, conversation: dict) -> Outcome:
    outcome = Outcome(conversation["id"], conversation.get("lang", "en"))
    conversation_id, token = None, None
    for index, turn in enumerate(conversation["turns"]):
        payload: dict = {"message": turn["message"]}
        if conversation.get("customer"):
            payload["identity_token"] = identity_token(secret, conversation["customer"])
        headers = {}
        if conversation_id:
            payload["conversation_id"] = conversation_id
            headers["X-Conversation-Token"] = token
        response = client.post(f"/api/tenants/{tenant}/chat", json=payload, headers=headers)
        outcome.turns += 1
        if response.status_code != 200:
            outcome.failures.append(f"turn {index + 1}: HTTP {response.status_code} {response.text[:120]}")
            break
        body = response.json()
        conversation_id, token = body["conversation_id"], body["conversation_token"]
        problems = check_turn(turn.get("expect", {}), body)
        if problems:
            outcome.failures.append(f"turn {index + 1}: {'; '.join(problems)} — reply: {body['reply'][:200]!r}")
        else:
            outcome.turns_passed += 1
    return outcome


def report(tenant: str, outcomes: list[Outcome]) -> str:
    by_lang: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_lang[outcome.lang].append(outcome)
        by_lang["all"].append(outcome)
    lines = [f"shop {tenant}", f"{'language':<9} {'conversations':>13} {'passed':>7} {'turns passed':>13}"]
    for lang in ("all", *LANGUAGES):
        group = by_lang.get(lang, [])
        if group:
            turns, passed = sum(o.turns for o in group), sum(o.turns_passed for o in group)
            lines.append(f"{lang:<9} {len(group):>13} {sum(o.passed for o in group):>4}/{len(group):<2} "
                         f"{passed:>8}/{turns}")
    lines += [f"FAIL {o.conversation} [{o.lang}] {f}" for o in outcomes for f in o.failures]
    return "\n".join(lines)


def evaluate(shop_dir: Path, base_url: str | None = None) -> tuple[str, list[Outcome]]:
    """Import the shop into a fresh local host (or the one at ``base_url``, where it must already be imported)
    and run its questions."""
    questions = json.loads((shop_dir.parent / f"{shop_dir.name}.questions.json").read_text(encoding="utf-8"))
    tenant = json.loads((shop_dir / "tenant.json").read_text(encoding="utf-8"))["id"]
    secret = f"eval-identity-secret-{tenant}"
    if base_url:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            return tenant, [run_conversation(client, tenant, secret, c) for c in questions["conversations"]]

    from core.devhost import azurite
    from tests.integration.hosting import HostProcess, free_port, host_env

    os.environ.setdefault("FUNCTIONS_WORKER_RUNTIME", "python")
    from core.config import load_local_settings

    load_local_settings(REPO / "local.settings.sample.json")
    with tempfile.TemporaryDirectory(prefix="shop-eval-") as tmp:
        ports = (free_port(), free_port(), free_port())
        azurite.start(Path(tmp) / "azurite", *ports)
        try:
            env = host_env(azurite.connection_string(*ports), Path(tmp) / "data",
                           **{f"CHAT_IDENTITY_SECRET_{tenant.upper().replace('-', '_')}": secret})
            subprocess.run([sys.executable, "-m", "core.tenants", "import", tenant, str(shop_dir)], cwd=REPO,
                           env=env, check=True, capture_output=True)
            host = HostProcess(env, REPO, "function_app", Path(tmp) / "host.log")
            host.start()
            try:
                with httpx.Client(base_url=host.base, timeout=60) as client:
                    return tenant, [run_conversation(client, tenant, secret, c) for c in questions["conversations"]]
            finally:
                host.stop()
        finally:
            azurite.stop(Path(tmp) / "azurite")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("shops", nargs="*", type=Path, help="shop folders (default: every shop under "
                                                             "tests/evals/shops)")
    parser.add_argument("--base-url", default=None, help="a running host where the shop is already imported")
    args = parser.parse_args()
    shops = args.shops or sorted(p for p in SHOPS_DIR.iterdir() if (p / "tenant.json").exists())
    for shop in shops:
        tenant, outcomes = evaluate(shop.resolve(), args.base_url)
        print(report(tenant, outcomes), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
