"""Token prices and the cost ledger (per tenant, conversation and day) kept in the document store."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from core.stores.optimistic import read_modify_write
from core.stores.ports import ConcurrencyError, DocumentStore

LEDGER = "llm-costs"


def parse_prices(raw: str) -> dict[str, tuple[float, float]]:
    """``{"gpt-4o": [2.5, 10.0]}``: USD per million input and output tokens."""
    data = json.loads(raw) if raw else {}
    return {model: (float(p[0]), float(p[1])) for model, p in data.items()}


def cost_of(prices: dict[str, tuple[float, float]], model: str, prompt_tokens: int, completion_tokens: int) -> float:
    input_price, output_price = prices.get(model, (0.0, 0.0))
    return round((prompt_tokens * input_price + completion_tokens * output_price) / 1_000_000, 8)


def record(store: DocumentStore, tenant_id: str, conversation_id: str, *, agent: str, provider: str, model: str,
           tokens: int, cost: float, attempts: int = 20) -> None:
    """Add one call to the tenant's daily ledger and to the conversation's ledger (ETag-safe increments)."""
    day = datetime.now(UTC).date().isoformat()
    def change(current: dict | None) -> dict:
        body = current or {"calls": 0, "tokens": 0, "cost": 0.0, "by_agent": {}}
        body["calls"] += 1
        body["tokens"] += tokens
        body["cost"] = round(body["cost"] + cost, 8)
        entry = body["by_agent"].setdefault(agent, {"calls": 0, "tokens": 0, "cost": 0.0, "providers": {}})
        entry["calls"] += 1
        entry["tokens"] += tokens
        entry["cost"] = round(entry["cost"] + cost, 8)
        entry["providers"][f"{provider}:{model}"] = entry["providers"].get(f"{provider}:{model}", 0) + 1
        return body

    for doc_id in (f"day-{day}", f"conversation-{conversation_id}"):
        try:
            read_modify_write(store, tenant_id, LEDGER, doc_id, change, attempts=attempts)
        except ConcurrencyError:
            continue  # a ledger that stays contended skips this call rather than fail the turn
