"""The model router with the real openai SDK over its own HTTP transport (httpx2.MockTransport), serving recorded
Azure OpenAI / OpenAI responses: retries with Retry-After, breaker, rate limits, fallback, tokenization, costs."""

from __future__ import annotations

import copy
import json
import re
import uuid
from pathlib import Path

import httpx2
import pytest

from core.llm import costs
from core.llm.providers import azure_openai_provider, third_party_provider
from core.llm.router import LlmRouter
from core.llm.types import CompletionRequest, Message
from core.stores.memory_store import MemoryDocumentStore

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "recorded" / "openai"
COMPLETION = json.loads((RECORDED / "chat_completion.json").read_text())
RATE_LIMITED = json.loads((RECORDED / "rate_limited.json").read_text())
PRICES = costs.parse_prices('{"gpt-4o": [2.5, 10.0], "gpt-4o-mini": [0.15, 0.6]}')
MODELS = {"intent": "gpt-4o-mini", "critic": "gpt-4o-mini", "response": "gpt-4o"}


def completion(content: str) -> dict:
    body = copy.deepcopy(COMPLETION)
    body["choices"][0]["message"]["content"] = content
    return body


class Server:
    """Scripted responses per host; records every request the SDK sends."""

    def __init__(self, script: list):
        self.script = list(script)
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, Exception):
            raise step
        return step

    def bodies(self) -> list[dict]:
        return [json.loads(r.content) for r in self.requests]


def ok(content: str = "Hello from the model") -> httpx2.Response:
    return httpx2.Response(200, json=completion(content))


def throttled(seconds: str = "2") -> httpx2.Response:
    return httpx2.Response(429, json=RATE_LIMITED, headers={"retry-after": seconds})


def failing(status: int = 500) -> httpx2.Response:
    return httpx2.Response(status, json={"error": {"message": "upstream failure", "code": str(status)}})


def azure(server: Server):
    return azure_openai_provider(endpoint="https://shopdesk-demo.openai.azure.com/", api_version="2024-10-21",
                                 api_key="recorded-test-key", models=MODELS,
                                 http_client=httpx2.Client(transport=httpx2.MockTransport(server)))


def third_party(server: Server):
    return third_party_provider(base_url="https://llm.example.net/v1", api_key="recorded-test-key", models=MODELS,
                                http_client=httpx2.Client(transport=httpx2.MockTransport(server)))


class TokenGuard:
    """Stand-in for core.pii's guard with the same contract: known entities → TOKEN_<uuid4> and back."""

    def protect(self, tenant_id, conversation_id, texts, known_entities):
        mapping = {value: f"TOKEN_{uuid.uuid4()}" for value in known_entities}
        out = []
        for text in texts:
            for value, token in mapping.items():
                text = text.replace(value, token)
            out.append(text)
        return out, mapping

    def restore(self, session, text):
        for value, token in session.items():
            text = re.sub(re.escape(token), value, text, flags=re.I)
        return text, []


class FakeClock:
    def __init__(self):
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def request(agent="response", text="Where is order #1001 for jane.doe@example.com?", **kwargs) -> CompletionRequest:
    return CompletionRequest(agent=agent, messages=[Message("system", "You are a shop assistant."),
                                                    Message("user", text)],
                             tenant_id="demo", conversation_id="conv-1", offline=lambda: "offline answer",
                             known_entities=["jane.doe@example.com", "Jane Doe"], **kwargs)


def router(providers, clock=None, **kwargs) -> LlmRouter:
    clock = clock or FakeClock()
    return LlmRouter(providers, rate_limits=kwargs.pop("rate_limits", {}), prices=PRICES,
                     guard=kwargs.pop("guard", TokenGuard()), sleep=clock.sleep, clock=clock, **kwargs)


def test_azure_openai_success_records_usage_and_cost():
    server = Server([ok("Your order shipped.")])
    store = MemoryDocumentStore()
    r = router([azure(server)], ledger_store=store)
    result = r.complete(request())
    assert (result.provider, result.model, result.content) == ("azure_openai", "gpt-4o", "Your order shipped.")
    assert (result.prompt_tokens, result.completion_tokens) == (412, 37)
    assert result.cost == pytest.approx((412 * 2.5 + 37 * 10.0) / 1e6)
    sent = server.requests[0]
    assert sent.url.path == "/openai/deployments/gpt-4o/chat/completions"
    assert sent.url.params["api-version"] == "2024-10-21" and sent.headers["api-key"] == "recorded-test-key"
    # Inside the perimeter: no tokenization.
    assert "jane.doe@example.com" in sent.content.decode() and not result.tokenized
    ledger = store.get("demo", costs.LEDGER, "conversation-conv-1").body
    assert ledger["calls"] == 1 and ledger["tokens"] == 449 and ledger["by_agent"]["response"]["calls"] == 1


def test_429_is_retried_after_the_retry_after_delay():
    server = Server([throttled("2"), throttled("3"), ok()])
    clock = FakeClock()
    result = router([azure(server)], clock=clock).complete(request())
    assert result.attempts == 3 and result.provider == "azure_openai"
    assert clock.slept == [2.0, 3.0]


def test_retry_after_is_capped():
    server = Server([throttled("120"), ok()])
    clock = FakeClock()
    router([azure(server)], clock=clock, max_retry_after=5).complete(request())
    assert clock.slept == [5.0]


def test_a_429_storm_falls_back_to_the_next_provider_with_pii_tokenized():
    azure_server = Server([throttled("1")])
    other = Server([ok("Order for jane.doe@example.com is on its way")])
    clock = FakeClock()
    result = router([azure(azure_server), third_party(other)], clock=clock, max_attempts=4).complete(request())
    assert len(azure_server.requests) == 4 and result.provider == "third_party"
    body = other.requests[0].content.decode()
    assert "jane.doe@example.com" not in body and "TOKEN_" in body
    assert result.tokenized


def test_tokens_echoed_by_the_third_party_model_are_restored():
    def echo(request_: httpx2.Request) -> httpx2.Response:
        user = json.loads(request_.content)["messages"][-1]["content"]
        token = re.search(r"TOKEN_[0-9a-f-]{36}", user).group(0)
        return httpx2.Response(200, json=completion(f"I will email {token.lower()} today."))

    provider = third_party_provider(base_url="https://llm.example.net/v1", api_key="k", models=MODELS,
                                    http_client=httpx2.Client(transport=httpx2.MockTransport(echo)))
    result = router([provider]).complete(request())
    assert result.content == "I will email jane.doe@example.com today."


def test_third_party_is_never_called_without_pii_protection():
    server = Server([ok()])
    result = router([third_party(server)], guard=None).complete(request())
    assert server.requests == [] and result.provider == "offline" and result.content == "offline answer"


def test_tenant_policy_can_force_tokenization_inside_the_perimeter():
    server = Server([ok()])
    result = router([azure(server)]).complete(request(), always_tokenize=True)
    assert "jane.doe@example.com" not in server.requests[0].content.decode() and result.tokenized


def test_timeouts_are_retried_then_fall_back():
    server = Server([httpx2.ReadTimeout("read timed out")])
    other = Server([ok()])
    result = router([azure(server), third_party(other)], max_attempts=2).complete(request())
    assert len(server.requests) == 2 and result.provider == "third_party"


def test_client_errors_are_not_retried():
    server = Server([failing(400)])
    result = router([azure(server)]).complete(request())
    assert len(server.requests) == 1 and result.provider == "offline"


def test_outage_opens_the_breaker_then_a_trial_closes_it():
    server = Server([failing(503)])
    clock = FakeClock()
    r = router([azure(server)], clock=clock, max_attempts=1, breaker_failures=3, breaker_reset_seconds=30)
    for _ in range(3):
        assert r.complete(request()).provider == "offline"
    assert r.breakers["azure_openai"].state == "open"
    calls = len(server.requests)
    assert r.complete(request()).provider == "offline" and len(server.requests) == calls  # not even tried
    clock.now += 31
    server.script = [ok("back")]
    result = r.complete(request())
    assert result.content == "back" and r.breakers["azure_openai"].state == "closed"


def test_failed_trial_reopens_the_breaker():
    server = Server([failing(500)])
    clock = FakeClock()
    r = router([azure(server)], clock=clock, max_attempts=1, breaker_failures=1, breaker_reset_seconds=10)
    r.complete(request())
    clock.now += 11
    assert r.breakers["azure_openai"].state == "half_open"
    r.complete(request())
    assert r.breakers["azure_openai"].state == "open"


def test_rate_limit_per_deployment_sends_overflow_to_the_next_provider():
    server, other = Server([ok("azure")]), Server([ok("other")])
    clock = FakeClock()
    r = router([azure(server), third_party(other)], clock=clock, rate_limits={"gpt-4o": 2},
               rate_limit_max_wait=1.0)
    providers = [r.complete(request()).provider for _ in range(3)]
    assert providers == ["azure_openai", "azure_openai", "third_party"]
    clock.now += 61
    assert r.complete(request()).provider == "azure_openai"


def test_rate_limiter_waits_when_a_slot_frees_soon():
    server = Server([ok()])
    clock = FakeClock()
    r = router([azure(server)], clock=clock, rate_limits={"gpt-4o": 1}, rate_limit_max_wait=120)
    r.complete(request())
    clock.now += 59.5
    r.complete(request())
    assert clock.slept and clock.slept[-1] == pytest.approx(0.5)


def test_invalid_json_for_a_schema_request_falls_back():
    server = Server([ok("not json")])
    schema = {"type": "object", "properties": {"label": {"type": "string"}}, "required": ["label"],
              "additionalProperties": False}
    result = router([azure(server)], max_attempts=1).complete(request(agent="intent", json_schema=schema))
    assert result.provider == "offline"
    sent = json.loads(server.requests[0].content)
    assert sent["response_format"]["type"] == "json_schema" and sent["model"] == "gpt-4o-mini"


def test_offline_only_router_answers_from_the_offline_implementation():
    assert router([]).complete(request()).content == "offline answer"
