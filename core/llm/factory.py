"""Build the router from settings: providers in ``LLM_PROVIDER_ORDER``, per-agent models, limits and prices."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from core.config import Settings

from . import costs
from .pii_policy import PiiGuard
from .providers import AZURE_OPENAI, THIRD_PARTY, ChatProvider, azure_openai_provider, third_party_provider
from .router import LlmRouter


class ProviderConfigError(ValueError):
    pass


def agent_models(settings: Settings) -> dict[str, str]:
    return {"intent": settings.LLM_MODEL_INTENT, "critic": settings.LLM_MODEL_CRITIC,
            "response": settings.LLM_MODEL_RESPONSE}


def build_router(settings: Settings, ledger_store: Any = None, guard: PiiGuard | None = None,
                 http_client: Any = None, *, guard_factory: Callable[[], PiiGuard] | None = None) -> LlmRouter:
    """``guard`` (or ``guard_factory``, called only when a provider outside the perimeter is configured) protects
    PII around third-party calls; without one those providers are skipped."""
    providers: list[ChatProvider] = []
    models = agent_models(settings)
    for name in settings.LLM_PROVIDER_ORDER.split(","):
        if name == AZURE_OPENAI:
            if not settings.AZURE_OPENAI_ENDPOINT:
                raise ProviderConfigError("LLM_PROVIDER_ORDER names azure_openai but AZURE_OPENAI_ENDPOINT is empty")
            providers.append(azure_openai_provider(endpoint=settings.AZURE_OPENAI_ENDPOINT,
                                                   api_version=settings.AZURE_OPENAI_API_VERSION,
                                                   api_key=settings.AZURE_OPENAI_API_KEY, models=models,
                                                   http_client=http_client))
        elif name == THIRD_PARTY:
            if not settings.THIRD_PARTY_LLM_BASE_URL:
                raise ProviderConfigError("LLM_PROVIDER_ORDER names third_party but THIRD_PARTY_LLM_BASE_URL is empty")
            providers.append(third_party_provider(base_url=settings.THIRD_PARTY_LLM_BASE_URL,
                                                  api_key=settings.THIRD_PARTY_LLM_API_KEY, models=models,
                                                  http_client=http_client))
    return LlmRouter(
        providers,
        rate_limits={k: int(v) for k, v in json.loads(settings.LLM_RATE_LIMITS).items()},
        prices=costs.parse_prices(settings.LLM_PRICES),
        guard=guard if guard is not None else (guard_factory() if guard_factory is not None and any(
            not p.inside_perimeter for p in providers) else None),
        ledger_store=ledger_store,
        max_attempts=settings.LLM_MAX_ATTEMPTS,
        timeout_seconds=settings.LLM_TIMEOUT_SECONDS,
        breaker_failures=settings.LLM_BREAKER_FAILURES,
        breaker_reset_seconds=settings.LLM_BREAKER_RESET_SECONDS,
    )
