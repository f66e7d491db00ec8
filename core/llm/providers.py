"""Model providers behind one interface: Azure OpenAI (inside the perimeter), any OpenAI-compatible third-party
endpoint (PII is tokenized before it), and the offline provider (deterministic, grounded; the default)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from .types import Message, ToolCall

OFFLINE = "offline"
AZURE_OPENAI = "azure_openai"
THIRD_PARTY = "third_party"


class ChatProvider(Protocol):
    name: str
    inside_perimeter: bool  # True: customer data may be sent as is (Azure OpenAI in the tenant's perimeter)

    def model_for(self, agent: str) -> str: ...

    def complete(self, model: str, messages: list[Message], *, json_schema: dict[str, Any] | None,
                 temperature: float, max_tokens: int, timeout: float, tools: list[dict[str, Any]] | None = None
                 ) -> tuple[str, int, int, list[ToolCall]]: ...


def wire_message(message: Message) -> dict[str, Any]:
    """A message in the chat.completions format (an assistant's tool calls, a tool's answer to one)."""
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["tool_calls"] = [{"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                             for c in message.tool_calls]
    if message.tool_call_id is not None:
        out["tool_call_id"] = message.tool_call_id
    return out


@dataclass
class OpenAIChatProvider:
    """Any OpenAI-protocol client (``openai.AzureOpenAI`` or ``openai.OpenAI``); the SDK's own retries are off
    because the router owns retries, rate limits and fallback."""

    name: str
    client: Any
    models: dict[str, str]
    inside_perimeter: bool
    default_model: str = "gpt-4o-mini"
    extra: dict[str, Any] = field(default_factory=dict)

    def model_for(self, agent: str) -> str:
        return self.models.get(agent, self.default_model)

    def complete(self, model, messages, *, json_schema, temperature, max_tokens, timeout, tools=None):
        kwargs: dict[str, Any] = {
            "model": model,
            "messages": [wire_message(m) for m in messages],
            "temperature": temperature,
            "max_tokens": max_tokens,
            "timeout": timeout,
        }
        if json_schema is not None:
            kwargs["response_format"] = {"type": "json_schema",
                                         "json_schema": {"name": "result", "schema": json_schema, "strict": True}}
        if tools:
            kwargs["tools"] = tools
        response = self.client.chat.completions.create(**kwargs)
        message = response.choices[0].message
        calls = [ToolCall(c.id, c.function.name, c.function.arguments or "")
                 for c in message.tool_calls or [] if getattr(c, "function", None) is not None]
        usage = response.usage
        return (message.content or "", (usage.prompt_tokens if usage else 0),
                (usage.completion_tokens if usage else 0), calls)


def azure_openai_provider(*, endpoint: str, api_version: str, api_key: str, models: dict[str, str],
                          http_client: Any = None) -> OpenAIChatProvider:
    """Entra ID (managed identity / az login) when no key is configured, as the platform recommends."""
    from openai import AzureOpenAI

    kwargs: dict[str, Any] = {"azure_endpoint": endpoint, "api_version": api_version, "max_retries": 0}
    if api_key:
        kwargs["api_key"] = api_key
    else:
        from azure.identity import DefaultAzureCredential, get_bearer_token_provider

        kwargs["azure_ad_token_provider"] = get_bearer_token_provider(
            DefaultAzureCredential(), "https://cognitiveservices.azure.com/.default")
    if http_client is not None:
        kwargs["http_client"] = http_client
    return OpenAIChatProvider(AZURE_OPENAI, AzureOpenAI(**kwargs), models, inside_perimeter=True)


def third_party_provider(*, base_url: str, api_key: str, models: dict[str, str],
                         http_client: Any = None) -> OpenAIChatProvider:
    from openai import OpenAI

    kwargs: dict[str, Any] = {"base_url": base_url, "api_key": api_key, "max_retries": 0}
    if http_client is not None:
        kwargs["http_client"] = http_client
    return OpenAIChatProvider(THIRD_PARTY, OpenAI(**kwargs), models, inside_perimeter=False)
