"""The model router: per-agent models, retries honouring Retry-After, rate limits, circuit breakers, fallback
order, PII tokenization for third-party providers (a function-calling request's tool answers and earlier calls
included; the values of the tokens in the model's tool arguments are put back before anything acts on them), and
the token-cost ledger.

The offline provider is always the last resort, so a turn is answered from the shop's data even when every
model endpoint is down.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from . import costs
from .limits import CircuitBreaker, RateLimiter
from .pii_policy import PiiGuard
from .providers import OFFLINE, ChatProvider
from .types import Completion, CompletionRequest, Message, ToolCall

log = logging.getLogger("shopdesk.llm")


def _status_of(exc: BaseException) -> int | None:
    return getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None), "status_code", None)


def is_retryable(exc: BaseException) -> bool:
    """429, 5xx, timeouts and connection errors are worth another try; 4xx request errors are not."""
    try:
        from openai import APIConnectionError, APITimeoutError
    except ImportError:  # pragma: no cover - openai is a runtime dependency
        APIConnectionError = APITimeoutError = ()  # type: ignore[assignment]  # noqa: N806
    if isinstance(exc, (APIConnectionError, APITimeoutError)):
        return True
    status = _status_of(exc)
    return status is not None and (status == 429 or status >= 500)


def retry_after_seconds(exc: BaseException | None) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        if headers.get(name):
            try:
                return float(headers[name]) / 1000
            except ValueError:
                pass
    value = headers.get("retry-after")
    if value:
        try:
            return float(value)
        except ValueError:
            return None
    return None


class InvalidModelOutput(ValueError):
    pass


class LlmRouter:
    def __init__(self, providers: list[ChatProvider], *, rate_limits: dict[str, int],
                 prices: dict[str, tuple[float, float]], guard: PiiGuard | None = None,
                 ledger_store: Any = None, max_attempts: int = 4,
                 timeout_seconds: float = 20.0, max_retry_after: float = 20.0, rate_limit_max_wait: float = 2.0,
                 breaker_failures: int = 5, breaker_reset_seconds: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic):
        self.providers = [p for p in providers if p.name != OFFLINE]
        self.rate_limits = rate_limits
        self.prices = prices
        self.guard = guard
        self.ledger_store = ledger_store
        self.max_attempts = max_attempts
        self.timeout_seconds = timeout_seconds
        self.max_retry_after = max_retry_after
        self.rate_limit_max_wait = rate_limit_max_wait
        self._sleep, self._clock = sleep, clock
        self.breakers = {p.name: CircuitBreaker(breaker_failures, breaker_reset_seconds, clock) for p in self.providers}
        self._limiters: dict[tuple[str, str], RateLimiter] = {}
        self._lock = threading.Lock()

    @property
    def offline_only(self) -> bool:
        return not self.providers

    def _limiter(self, provider: str, model: str) -> RateLimiter | None:
        per_minute = self.rate_limits.get(model)
        if not per_minute:
            return None
        with self._lock:
            key = (provider, model)
            if key not in self._limiters:
                self._limiters[key] = RateLimiter(per_minute, self._clock, self._sleep)
            return self._limiters[key]

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hinted = retry_after_seconds(exc)
        if hinted is not None:
            return min(hinted, self.max_retry_after)
        return min(0.5 * 2 ** (state.attempt_number - 1), self.max_retry_after)

    def _call(self, provider: ChatProvider, model: str, messages: list[Message],
              request: CompletionRequest) -> tuple[str, int, int, list[ToolCall], int]:
        attempts = 0

        def once() -> tuple[str, int, int, list[ToolCall]]:
            nonlocal attempts
            attempts += 1
            extra = {"tools": request.tools} if request.tools else {}
            return provider.complete(model, messages, json_schema=request.json_schema,
                                     temperature=request.temperature, max_tokens=request.max_tokens,
                                     timeout=self.timeout_seconds, **extra)

        retrying = Retrying(stop=stop_after_attempt(self.max_attempts), wait=self._wait,
                            retry=retry_if_exception(is_retryable), sleep=self._sleep, reraise=True)
        content, prompt_tokens, completion_tokens, calls = retrying(once)
        return content, prompt_tokens, completion_tokens, calls, attempts

    def complete(self, request: CompletionRequest, *, always_tokenize: bool = False) -> Completion:
        for provider in self.providers:
            breaker = self.breakers[provider.name]
            if not breaker.allow():
                log.info("llm %s skipped for %s: circuit open", provider.name, request.agent)
                continue
            model = provider.model_for(request.agent)
            limiter = self._limiter(provider.name, model)
            if limiter is not None and not limiter.acquire(self.rate_limit_max_wait):
                breaker.record_success()  # not a provider fault: release a half-open trial
                log.info("llm %s/%s skipped for %s: rate limit", provider.name, model, request.agent)
                continue
            tokenize = always_tokenize or not provider.inside_perimeter
            messages = request.messages
            session = None
            if tokenize:
                if self.guard is None:
                    breaker.record_success()
                    log.warning("llm %s skipped: PII protection unavailable for a provider outside the perimeter",
                                provider.name)
                    continue
                messages, session = self._protect(request, messages)
            started = time.perf_counter()
            try:
                content, prompt_tokens, completion_tokens, calls, attempts = self._call(provider, model, messages,
                                                                                        request)
                report: list[str] = []
                if session is not None:
                    content, report = self.guard.restore(session, content)  # type: ignore[union-attr]
                    calls, call_report = self._restore_calls(session, calls)
                    report += call_report
                if request.json_schema is not None:
                    try:
                        json.loads(content)
                    except json.JSONDecodeError as exc:
                        raise InvalidModelOutput("model output is not the requested JSON") from exc
            except Exception as exc:  # any provider failure: count it and fall back to the next provider
                breaker.record_failure()
                log.warning("llm %s/%s failed for %s tenant=%s: %s", provider.name, model, request.agent,
                            request.tenant_id, type(exc).__name__)
                continue
            breaker.record_success()
            cost = costs.cost_of(self.prices, model, prompt_tokens, completion_tokens)
            completion = Completion(content=content, provider=provider.name, model=model,
                                    prompt_tokens=prompt_tokens, completion_tokens=completion_tokens, cost=cost,
                                    latency_ms=(time.perf_counter() - started) * 1000, attempts=attempts,
                                    tokenized=tokenize, pii_report=report, tool_calls=calls)
            self._record(request, completion)
            return completion
        return Completion(content=request.offline(), provider=OFFLINE, model=OFFLINE)

    def _protect(self, request: CompletionRequest, messages: list[Message]) -> tuple[list[Message], Any]:
        """The messages with PII tokenized: every text, tool answers and the arguments of earlier tool calls
        included."""
        texts = [m.content for m in messages] + [c.arguments for m in messages for c in m.tool_calls]
        tokenized, session = self.guard.protect(request.tenant_id, request.conversation_id,  # type: ignore[union-attr]
                                                texts, request.known_entities)
        arguments = iter(tokenized[len(messages):])
        out = [Message(m.role, text, [ToolCall(c.id, c.name, next(arguments)) for c in m.tool_calls], m.tool_call_id)
               for m, text in zip(messages, tokenized[:len(messages)], strict=True)]
        return out, session

    def _restore_calls(self, session: Any, calls: list[ToolCall]) -> tuple[list[ToolCall], list[str]]:
        """The model's tool arguments with the values of its PII tokens put back, before anything acts on them."""
        restored, report = [], []
        for call in calls:
            arguments, problems = self.guard.restore(session, call.arguments)  # type: ignore[union-attr]
            restored.append(ToolCall(call.id, call.name, arguments))
            report += problems
        return restored, report

    def _record(self, request: CompletionRequest, completion: Completion) -> None:
        if self.ledger_store is None:
            return
        try:
            costs.record(self.ledger_store, request.tenant_id, request.conversation_id, agent=request.agent,
                         provider=completion.provider, model=completion.model, tokens=completion.tokens,
                         cost=completion.cost)
        except Exception:  # the ledger must never fail a customer's turn
            log.exception("cost ledger write failed tenant=%s", request.tenant_id)
