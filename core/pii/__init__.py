"""PII protection: detect customer data in text, tokenize it before a third-party model sees it, restore it after.

Public API:
- ``detect(text, lang=None, known=None) -> list[Span]`` — spans ``(start, end, label)``;
- ``KnownEntities.from_shopify(customer, orders)`` — the conversation customer's own values, matched in any form;
- ``PiiGuard(vault).protect(tenant_id, conversation_id, text | messages | model, known) -> (tokenized, session)``
  and ``.restore(session, model_output) -> (text, RestoreReport)``; ``.applies(tenant_id, provider_kind)``;
- ``get_guard()`` — the process-wide guard built from settings (``PII_VAULT`` …);
- vaults: ``LocalVault`` (embedded default), ``KeyVaultVault``, ``CosmosEnvelopeVault``; ``pii_field`` marks
  pydantic fields as PII.
"""

from __future__ import annotations

import threading

from .detect import detect
from .guard import PiiGuard, PiiSession, TenantPiiPolicy
from .known import KnownEntities
from .spans import Label, Span
from .structured import pii_field
from .tokens import RestoreReport, TokenMap
from .vaults import MappingRecord, MappingVault, VaultError, build_vault

__all__ = [
    "KnownEntities", "Label", "MappingRecord", "MappingVault", "PiiGuard", "PiiSession", "RestoreReport", "Span",
    "TenantPiiPolicy", "TokenMap", "VaultError", "build_vault", "detect", "get_guard", "guard_for_router", "pii_field",
    "set_guard",
]

_guard: PiiGuard | None = None
_lock = threading.Lock()


def get_guard() -> PiiGuard:
    """The process-wide guard, with the vault chosen by ``PII_VAULT`` and the policy of ``PII_TOKENIZE``."""
    global _guard
    if _guard is None:
        with _lock:
            if _guard is None:
                from core.config import get_settings

                settings = get_settings()
                _guard = PiiGuard(build_vault(settings), always=str(settings.PII_TOKENIZE) == "always")
    return _guard


def set_guard(guard: PiiGuard | None) -> None:
    """Install a guard (tests) or clear it so the next ``get_guard()`` rebuilds from settings."""
    global _guard
    _guard = guard


def guard_for_router():
    """The guard in the shape ``core.llm`` expects (lists of texts, known values as strings)."""
    from .router_adapter import RouterGuard

    return RouterGuard(get_guard())
