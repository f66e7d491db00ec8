"""Logging and OpenTelemetry: scrubbed log records, spans per agent step and per integration call.

Spans carry tenant, conversation, step, intent, confidence, provider, tokens, cost and latency, never message text
or customer data (string attributes also pass through ``redact``). They always go to the in-process
``TraceStore`` (per tenant + conversation, bounded), which the operator trace route reads.

Export to Application Insights:
- in Azure the Python worker exports (host.json ``"telemetryMode": "OpenTelemetry"`` with the app settings
  ``PYTHON_ENABLE_OPENTELEMETRY`` and ``PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY``): the app's spans join the
  worker's tracer provider and the app adds no exporter and no log handler of its own, so nothing is sent twice;
- elsewhere, when ``APPLICATIONINSIGHTS_CONNECTION_STRING`` is set, the app exports itself
  (azure-monitor-opentelemetry, Entra auth when ``APPLICATIONINSIGHTS_AUTHENTICATION_STRING`` asks for it);
- otherwise spans stay in the in-process store.

Parent of a step's span: the trace context of the Functions invocation that started the turn (the chat
function's ``azure.functions.Context.trace_context.trace_parent``, carried by the turn as ``trace_parent``), else
the turn's trace id.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.trace import NonRecordingSpan, SpanContext, Status, StatusCode, TraceFlags

from core.config import Settings
from core.pii.detect import detect_log_patterns

#: The app setting under which the Python worker exports OpenTelemetry to Application Insights itself.
WORKER_EXPORTS_SETTING = "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY"
_TRACE_PARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_WORTH_SCANNING = re.compile(r"\d{2}|@|\bat\b", re.IGNORECASE)


def redact(text: str) -> str:
    """Mask e-mails, phones, card numbers, IBANs and public IPs (core.pii's validated patterns, then a broad e-mail
    fallback): the last line of defence for logs and traces. Ids, uuids, dates and times, durations and URL hosts
    are left as written, and a card number must pass the Luhn check as a whole number, never digits inside an id.
    Text without two digits in a row or an "@" is returned as is."""
    if not text or not _WORTH_SCANNING.search(text):
        return text
    spans = detect_log_patterns(text)
    for span in reversed(spans):
        text = f"{text[:span.start]}[{str(span.label).lower()}]{text[span.end:]}"
    return _EMAIL.sub("[email]", text)


_installed = False


def _install_record_scrubber() -> None:
    # A record factory (not a logger filter) so that every logger, including child and library loggers, is covered.
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed format string is left for the handler to report
            return record
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


class TraceStore(SpanProcessor):
    """Finished ShopDesk spans grouped by (tenant, conversation); the oldest conversations are dropped first."""

    def __init__(self, max_conversations: int = 2000, max_spans: int = 500):
        self.max_conversations, self.max_spans = max_conversations, max_spans
        self._spans: OrderedDict[tuple[str, str], list[dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def on_end(self, span: ReadableSpan) -> None:
        attributes = dict(span.attributes or {})
        tenant, conversation = attributes.get("shopdesk.tenant"), attributes.get("shopdesk.conversation")
        if not tenant or not conversation:
            return
        parent = span.parent.span_id if span.parent else None
        item = {
            "name": span.name, "kind": attributes.get("shopdesk.kind", "internal"),
            "trace_id": f"{span.context.trace_id:032x}", "span_id": f"{span.context.span_id:016x}",
            "parent_id": f"{parent:016x}" if parent else None,
            "start": span.start_time, "duration_ms": round(((span.end_time or 0) - (span.start_time or 0)) / 1e6, 3),
            "status": span.status.status_code.name.lower(), "attributes": attributes,
        }
        key = (str(tenant), str(conversation))
        with self._lock:
            spans = self._spans.pop(key, [])
            spans.append(item)
            self._spans[key] = spans[-self.max_spans:]
            while len(self._spans) > self.max_conversations:
                self._spans.popitem(last=False)

    def spans(self, tenant_id: str, conversation_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return sorted(self._spans.get((tenant_id, conversation_id), []), key=lambda s: s["start"] or 0)

    def clear(self) -> None:
        with self._lock:
            self._spans.clear()

    def shutdown(self) -> None:
        self.clear()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


_store = TraceStore()
_provider: Any = None
_provider_lock = threading.Lock()
_tracer_of: list[Any] = [None, None]  # [provider, its "shopdesk" tracer]
_conversation: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar("shopdesk_conversation",
                                                                                       default=None)


def worker_exports_telemetry(environ: dict[str, str] | None = None) -> bool:
    """Whether the Functions Python worker exports telemetry itself (then the app must not export a second time)."""
    value = (environ if environ is not None else os.environ).get(WORKER_EXPORTS_SETTING, "")
    return value.strip().lower() in ("true", "1")


def parse_trace_parent(value: str | None) -> tuple[int, int, int] | None:
    """(trace id, span id, flags) of a W3C ``traceparent``, or None when it is missing or malformed."""
    match = _TRACE_PARENT.match((value or "").strip().lower())
    if not match:
        return None
    trace_id, span_id, flags = int(match.group(1), 16), int(match.group(2), 16), int(match.group(3), 16)
    return (trace_id, span_id, flags) if trace_id and span_id else None


def trace_id_of(trace_parent: str | None) -> str | None:
    """The 32-hex trace id of a W3C ``traceparent`` (None when it is not one)."""
    parsed = parse_trace_parent(trace_parent)
    return f"{parsed[0]:032x}" if parsed else None


def trace_store() -> TraceStore:
    return _store


def _tracer():
    global _provider
    if _provider is None:
        with _provider_lock:
            if _provider is None:
                worker = trace.get_tracer_provider() if worker_exports_telemetry() else None
                # The worker's SDK provider exports; ours only keeps spans in the in-process store.
                provider = worker if isinstance(worker, TracerProvider) else TracerProvider()
                provider.add_span_processor(_store)
                _provider = provider
    provider, tracer = _tracer_of
    if provider is not _provider:  # one tracer per provider, not one per span
        tracer = _provider.get_tracer("shopdesk")
        _tracer_of[:] = [_provider, tracer]
    return tracer


def _export_to_app_insights(settings: Settings) -> None:
    """Azure Monitor distro: spans (also ours: the provider becomes the global one), logs and metrics."""
    global _provider
    from azure.monitor.opentelemetry import configure_azure_monitor

    kwargs: dict[str, Any] = {"connection_string": settings.APPLICATIONINSIGHTS_CONNECTION_STRING,
                              "logger_name": "shopdesk", "span_processors": [_store]}
    if "AAD" in os.environ.get("APPLICATIONINSIGHTS_AUTHENTICATION_STRING", ""):
        from azure.identity import DefaultAzureCredential

        kwargs["credential"] = DefaultAzureCredential()
    configure_azure_monitor(**kwargs)
    with _provider_lock:
        _provider = trace.get_tracer_provider()


def configure_telemetry(settings: Settings) -> None:
    _install_record_scrubber()
    logging.getLogger("shopdesk").setLevel(settings.LOG_LEVEL.upper())
    _store.max_conversations = settings.TRACE_STORE_CONVERSATIONS
    if worker_exports_telemetry():
        return  # the worker exports spans and logs: a second exporter or log handler would send them twice
    if settings.APPLICATIONINSIGHTS_CONNECTION_STRING and _provider is None:
        _export_to_app_insights(settings)


def _clean(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


def _turn_of(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        return {}
    state = payload.get("state", payload)
    return state.get("turn") or {} if isinstance(state, dict) else {}


def _parent_context(trace_id: str | None, trace_parent: str | None = None):
    # The Functions invocation that started the turn (the turn's trace parent) parents every step of the turn;
    # without one (the local host without a traceparent), the turn's trace id with a fresh parent span id.
    invocation_parent = parse_trace_parent(trace_parent)
    if invocation_parent:
        trace_number, span_number, flags = invocation_parent
        remote = SpanContext(trace_id=trace_number, span_id=span_number, is_remote=True,
                             trace_flags=TraceFlags(flags & TraceFlags.SAMPLED))
        return trace.set_span_in_context(NonRecordingSpan(remote))
    try:
        number = int(trace_id or "", 16)
    except ValueError:
        return None
    if not number:
        return None
    remote = SpanContext(trace_id=number, span_id=int.from_bytes(os.urandom(8), "big") or 1,
                         is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))
    return trace.set_span_in_context(NonRecordingSpan(remote))


def _result_attributes(result: Any) -> dict[str, Any]:
    if not isinstance(result, dict):
        return {"shopdesk.items": len(result)} if isinstance(result, list) else {}
    found: dict[str, Any] = {}
    if "label" in result:
        found["shopdesk.intent"] = result["label"]
    if "intent" in result and isinstance(result["intent"], str):
        found["shopdesk.intent"] = result["intent"]
    if isinstance(result.get("confidence"), int | float):
        found["shopdesk.confidence"] = float(result["confidence"])
    if isinstance(result.get("blocked"), bool):
        found["shopdesk.blocked"] = result["blocked"]
    if isinstance(result.get("ok"), bool):
        found["shopdesk.ok"] = result["ok"]
    usage = result.get("usage")
    if isinstance(usage, dict):
        # The recorded turn (it has a reply) reports the whole turn's usage: kept apart so costs are not summed twice.
        prefix = "shopdesk.turn_" if "reply" in result else "shopdesk."
        found["shopdesk.provider"] = str(usage.get("provider", ""))
        found[f"{prefix}tokens"] = int(usage.get("tokens") or 0)
        found[f"{prefix}cost_usd"] = float(usage.get("cost") or 0.0)
    return found


def agent_step(name: str) -> Callable:
    """Decorate an activity ``fn(payload, ...) -> result``: one span per call, attributes from the turn in the
    payload and from the result."""

    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(payload: Any, *args: Any, **kwargs: Any) -> Any:
            turn = _turn_of(payload)
            tenant, conversation = turn.get("tenant_id"), turn.get("conversation_id")
            attributes = {"shopdesk.kind": "agent_step", "shopdesk.step": name}
            if tenant and conversation:
                attributes.update({"shopdesk.tenant": tenant, "shopdesk.conversation": conversation,
                                   "shopdesk.turn": turn.get("turn_id", "")})
            token = _conversation.set((tenant, conversation) if tenant and conversation else None)
            started = time.perf_counter()
            with _tracer().start_as_current_span(f"agent.{name}", context=_parent_context(turn.get("trace_id"),
                                                                                 turn.get("trace_parent")),
                                                 attributes=attributes, record_exception=False) as span:
                try:
                    result = fn(payload, *args, **kwargs)
                except Exception as exc:
                    span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                    span.set_attribute("shopdesk.error", type(exc).__name__)
                    raise
                finally:
                    span.set_attribute("shopdesk.latency_ms", round((time.perf_counter() - started) * 1000, 3))
                    _conversation.reset(token)
                for key, value in _result_attributes(result).items():
                    span.set_attribute(key, _clean(value))
            return result

        return wrapper

    return decorate


class integration_call:  # noqa: N801  (used as a decorator-like context manager)
    """``with integration_call("shopify", "GET /orders.json", tenant_id):`` — a span under the current agent step."""

    def __init__(self, provider: str, operation: str, tenant_id: str | None = None, **attributes: Any):
        self.provider, self.operation, self.tenant_id, self.extra = provider, operation, tenant_id, attributes

    def __enter__(self):
        current = _conversation.get()
        attributes: dict[str, Any] = {"shopdesk.kind": "integration", "shopdesk.provider": self.provider,
                                      "shopdesk.operation": _clean(self.operation)}
        if current:
            attributes.update({"shopdesk.tenant": current[0], "shopdesk.conversation": current[1]})
        elif self.tenant_id:
            attributes["shopdesk.tenant"] = self.tenant_id
        attributes.update({f"shopdesk.{k}": _clean(v) for k, v in self.extra.items()})
        self._started = time.perf_counter()
        self._cm = _tracer().start_as_current_span(f"integration.{self.provider}", attributes=attributes,
                                                   record_exception=False)
        self.span = self._cm.__enter__()
        return self.span

    def __exit__(self, exc_type, exc, tb):
        self.span.set_attribute("shopdesk.latency_ms", round((time.perf_counter() - self._started) * 1000, 3))
        if exc_type is not None:
            self.span.set_status(Status(StatusCode.ERROR, exc_type.__name__))
            self.span.set_attribute("shopdesk.error", exc_type.__name__)
        return self._cm.__exit__(exc_type, exc, tb)


def vendor_call(method: Callable) -> Callable:
    """Decorate ``VendorClient._once(self, http_method, url)``: one span per attempt (status, retries visible)."""

    @functools.wraps(method)
    def wrapper(self, http_method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        path = url.split("?")[0]  # query strings can carry e-mails: never in a span
        with integration_call(getattr(self, "vendor", "vendor"), f"{http_method} {path}",
                              getattr(self, "tenant_id", None)) as span:
            response = method(self, http_method, url, *args, **kwargs)
            span.set_attribute("shopdesk.http_status", getattr(response, "status_code", 0))
            return response

    return wrapper


def turn_trace(tenant_id: str, conversation_id: str) -> dict[str, Any]:
    """The conversation's spans grouped by turn: one span per agent step, integration spans under them, cost."""
    spans = _store.spans(tenant_id, conversation_id)
    turns: OrderedDict[str, dict[str, Any]] = OrderedDict()
    for span in spans:
        if span["kind"] != "agent_step":
            continue
        turn_id = str(span["attributes"].get("shopdesk.turn", ""))
        turn = turns.setdefault(turn_id, {"turn_id": turn_id, "trace_id": span["trace_id"], "steps": [],
                                          "cost_usd": 0.0, "tokens": 0})
        children = [s for s in spans if s["parent_id"] == span["span_id"]]
        turn["steps"].append({**span, "integrations": children})
        turn["cost_usd"] = round(turn["cost_usd"] + float(span["attributes"].get("shopdesk.cost_usd", 0.0)), 8)
        turn["tokens"] += int(span["attributes"].get("shopdesk.tokens", 0))
    return {"tenant_id": tenant_id, "conversation_id": conversation_id, "turns": list(turns.values()),
            "cost_usd": round(sum(t["cost_usd"] for t in turns.values()), 8)}
