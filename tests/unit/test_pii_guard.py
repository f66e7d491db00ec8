"""PiiGuard policy and turn economics, the router adapter, and a chat turn through its declared steps with a
third-party model: no raw PII in the request body or in any log line, and the reply comes back whole."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from azure.keyvault.secrets import SecretClient

from core.pii import KnownEntities, PiiGuard, TenantPiiPolicy, tenant_policies
from core.pii.router_adapter import RouterGuard, infer_label
from core.pii.vaults.keyvault import KeyVaultVault
from core.pii.vaults.local import LocalVault
from tests.bench.pii_recorded import VAULT_URL, KeyVaultWire, StaticCredential

TOKEN = re.compile(r"TOKEN_[0-9a-f-]{36}")


class CountingVault:
    """Counts the calls a turn makes on a real vault."""

    def __init__(self, inner):
        self.inner, self.loads, self.saves = inner, 0, 0

    def load(self, tenant_id, conversation_id):
        self.loads += 1
        return self.inner.load(tenant_id, conversation_id)

    def save(self, tenant_id, conversation_id, record):
        self.saves += 1
        self.inner.save(tenant_id, conversation_id, record)

    def delete(self, tenant_id, conversation_id):
        self.inner.delete(tenant_id, conversation_id)


def policy(tokenize="third_party", days=365):
    return lambda tenant_id: TenantPiiPolicy(tokenize=tokenize, retention_days=days)


@pytest.fixture
def vault(tmp_path):
    return CountingVault(LocalVault(tmp_path / "v.sqlite", tmp_path / "v.key"))


def test_tokenize_for_third_party_providers_only_unless_the_tenant_forces_it(vault):
    guard = PiiGuard(vault, policy=policy())
    assert guard.applies("demo", "third_party") and guard.applies("demo", "anthropic")
    assert not guard.applies("demo", "azure_openai") and not guard.applies("demo", "offline")
    assert PiiGuard(vault, policy=policy("always")).applies("demo", "azure_openai")
    assert PiiGuard(vault, policy=policy(), always=True).applies("demo", "azure_openai")


def test_tenant_policy_and_retention_come_from_tenant_json(services, tmp_path):
    wire = KeyVaultWire()
    guard = PiiGuard(KeyVaultVault(SecretClient(VAULT_URL, StaticCredential(), transport=wire)),
                     policy=tenant_policies(services.tenant))
    _, session = guard.protect("northwind-tea", "conv-12345678", "I'm Emily Chen")
    guard.flush(session)
    put = next(body for method, _, body in wire.requests if method == "PUT")
    expected = datetime.now(UTC) + timedelta(days=180)  # tests/fixtures/tenants/northwind-tea/tenant.json
    assert abs(put["attributes"]["exp"] - expected.timestamp()) < 120
    assert not guard.applies("demo", "azure_openai")


def test_a_turn_reads_the_vault_once_and_writes_once(vault):
    guard = PiiGuard(vault, policy=policy())
    messages = [{"role": "system", "content": "You are the support desk of a soap shop."},
                {"role": "user", "content": "I'm Emily Chen, emily.chen@example.com, 416-555-0177"},
                {"role": "assistant", "content": "Thanks! What is your order number?"},
                {"role": "user", "content": [{"type": "text", "text": "It's #1003, call 416 555 0177"}]}]
    tokenized, session = guard.protect("demo", "conv-1", messages)
    text, report = guard.restore(session, f"Hi {TOKEN.findall(tokenized[1]['content'])[0]}!")
    assert (vault.loads, vault.saves) == (1, 1)
    assert text == "Hi Emily Chen!" and report.ok
    # Tokens are random hex, so look for the phone's digits outside tokens only.
    assert "416" not in TOKEN.sub("", json.dumps(tokenized)) and messages[1]["content"].startswith("I'm Emily")
    # the next turn finds the same tokens in the vault, and writes nothing when nothing is new
    again, session = guard.protect("demo", "conv-1", "Emily Chen again, 416-555-0177")
    guard.restore(session, "ok")
    assert (vault.loads, vault.saves) == (2, 1)
    assert TOKEN.findall(again) == TOKEN.findall(tokenized[1]["content"])[:1] + TOKEN.findall(
        tokenized[1]["content"])[2:3]


class BrokenVault:
    def load(self, tenant_id, conversation_id):
        raise ConnectionError("vault unreachable")

    def save(self, tenant_id, conversation_id, record):
        raise ConnectionError("vault unreachable")

    def delete(self, tenant_id, conversation_id):
        raise ConnectionError("vault unreachable")


def test_a_vault_outage_neither_leaks_nor_fails_the_turn(caplog):
    guard = PiiGuard(BrokenVault(), policy=policy())
    tokenized, session = guard.protect("demo", "conv-x", "I'm Emily Chen, 416-555-0177")
    assert "Emily" not in tokenized and "416" not in TOKEN.sub("", tokenized) and session.detached
    restored, report = guard.restore(session, tokenized)
    assert restored == "I'm Emily Chen, 416-555-0177" and report.ok
    attached = PiiGuard(CountingVault(BrokenVault()), policy=policy())
    attached.vault.inner.load = lambda *a: None  # reads work, writes fail
    _, session = attached.protect("demo", "conv-y", "I'm Emily Chen")
    assert attached.restore(session, "ok")[0] == "ok"
    assert "unreachable" not in caplog.text and "Emily" not in caplog.text
    assert "pii vault read failed tenant=demo" in caplog.text and "pii vault write failed tenant=demo" in caplog.text


def test_known_entities_and_structured_models_are_tokenized(vault):
    from pydantic import BaseModel

    from core.pii import pii_field

    class Facts(BaseModel):
        order_number: str = pii_field("order")
        tracking_number: str = pii_field("tracking")
        carrier: str = "Canada Post"

    guard = PiiGuard(vault, policy=policy())
    known = KnownEntities.from_values([("PERSON", "Ginette Lacasse")])
    facts, session = guard.protect("demo", "conv-9", Facts(order_number="1001", tracking_number="7023315339549921"),
                                   known)
    text, session = guard.protect("demo", "conv-9", "ginette lacasse here, about 1001", session=session)
    assert facts["carrier"] == "Canada Post" and TOKEN.fullmatch(facts["order_number"])
    assert "ginette" not in text.lower() and "1001" not in text
    assert facts["order_number"] in text  # the order named in free text gets the structured field's token


def test_router_adapter_speaks_the_router_protocol(vault):
    router_guard = RouterGuard(PiiGuard(vault, policy=policy()))
    texts, session = router_guard.protect("demo", "conv-2", ["system prompt", "I'm zed, zed@example.com"],
                                          ["Zed", "zed@example.com"])
    assert texts[0] == "system prompt" and "zed" not in texts[1].lower()
    restored, problems = router_guard.restore(session, f"{TOKEN.findall(texts[1])[0]} and "
                                              "TOKEN_11111111-2222-4333-8444-555555555555")
    assert restored.startswith("zed") or restored.startswith("Zed")
    assert problems == ["foreign_token:TOKEN_11111111-2222-4333-8444-555555555555"]
    assert infer_label("+1 514 555 0117") == "PHONE" and infer_label("a@b.co") == "EMAIL"


RAW_PII = ["Emily Chen", "emily.chen@example.com", "416-555-0177", "4111 1111 1111 1111", "12 Maple Avenue",
           "M5R 2T1", "783702464694"]


def _chat_completion(content: str) -> dict:
    return {"id": "chatcmpl-AbC123", "object": "chat.completion", "created": 1763712000, "model": "gpt-4o-2024-08-06",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": None},
                         "logprobs": None, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 812, "completion_tokens": 41, "total_tokens": 853},
            "system_fingerprint": "fp_50cad350e4"}


def test_a_chat_turn_with_a_third_party_model_leaks_no_pii_and_restores_the_reply(services, tmp_path, caplog):
    from core.config import load_settings
    from core.llm.factory import build_router
    from core.models import TurnInput
    from core.telemetry import configure_telemetry
    from core.turn import steps
    from core.turn.runner import run_activity
    from core.turn.state import TurnState

    sent: list[str] = []

    def third_party(request: httpx.Request) -> httpx.Response:
        body = request.content.decode()
        sent.append(body)
        user = json.loads(body)["messages"][-1]["content"]
        tokens = TOKEN.findall(user)
        echo = " ".join(t.lower().replace("_", "-") for t in tokens[:2])  # altered echo, still restored
        return httpx.Response(200, json=_chat_completion(f"Hello {echo}, I'm looking into it."))

    settings = load_settings(DOCUMENT_STORE="memory", EVENT_QUEUE="memory", LLM_PROVIDER_ORDER="third_party,offline",
                             THIRD_PARTY_LLM_BASE_URL="https://llm.example.test/v1", THIRD_PARTY_LLM_API_KEY="sk-t")
    guard = PiiGuard(LocalVault(tmp_path / "v.sqlite", tmp_path / "v.key"))
    services.llm = build_router(settings, guard=RouterGuard(guard),
                                http_client=httpx.Client(transport=httpx.MockTransport(third_party)))
    configure_telemetry(settings)
    message = ("Hi, I'm Emily Chen (emily.chen@example.com, 416-555-0177). Where is order #1003? Card "
               "4111 1111 1111 1111, and I moved to 12 Maple Avenue, Toronto ON M5R 2T1.")
    caplog.set_level(logging.DEBUG)
    state = TurnState(turn=TurnInput(tenant_id="demo", conversation_id="conv-pii-0001", turn_id="t1",
                                     message=message, trace_id="trace-1", received_at=datetime.now(UTC).isoformat()))
    ports = services.turn_ports()
    for stage in steps.REPLY:  # what the orchestrator does, one activity after the other
        for activity in (a for a in stage if a.due(state)):
            if activity.prepare is not None:
                activity.prepare(state)
            activity.apply(state, run_activity(activity, activity.payload(state), ports))

    assert sent, "the third-party model was not called"
    for body in sent:
        for value in RAW_PII:
            assert value.lower() not in body.lower(), value
        assert "4165550177" not in re.sub(r"\D", "", body)
    assert state.review.ok and state.draft.reply.startswith("Hello Emily Chen")
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    for value in ["emily.chen@example.com", "416-555-0177", "4111 1111 1111 1111", "Emily Chen", "12 Maple Avenue"]:
        assert value not in logged, value
