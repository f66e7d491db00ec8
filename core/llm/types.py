"""Request/result types shared by the model router and its providers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class ToolCall:
    """A function call the model asked for: ``arguments`` is the JSON text it wrote (PII tokens restored)."""

    id: str
    name: str
    arguments: str


@dataclass
class Message:
    role: Role
    content: str
    tool_calls: list[ToolCall] = field(default_factory=list)  # an assistant message that called tools
    tool_call_id: str | None = None  # a tool message: the call it answers


@dataclass
class Completion:
    content: str
    provider: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    latency_ms: float = 0.0
    attempts: int = 1
    tokenized: bool = False
    pii_report: list[str] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class CompletionRequest:
    """One model call for one agent step. ``offline`` is the deterministic, grounded implementation the offline
    provider runs (and the last resort when every model provider is down)."""

    agent: str
    messages: list[Message]
    tenant_id: str
    conversation_id: str
    offline: Callable[[], str]
    json_schema: dict[str, Any] | None = None
    tools: list[dict[str, Any]] | None = None  # function tools in the OpenAI format (``core.actions.tools``)
    known_entities: Any = field(default_factory=list)  # list of values, or core.pii.KnownEntities
    temperature: float = 0.2
    max_tokens: int = 600
