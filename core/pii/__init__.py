"""PII protection: detect customer data in text, tokenize it before a third-party model sees it, restore it after.

Public API:
- ``detect(text, lang=None, known=None) -> list[Span]`` — spans ``(start, end, label)``;
- ``KnownEntities.from_shopify(customer, orders)`` — the conversation customer's own values, matched in any form;
- ``PiiGuard(vault).protect(tenant_id, conversation_id, text | messages | model, known) -> (tokenized, session)``
  and ``.restore(session, model_output) -> (text, RestoreReport)``; ``.applies(tenant_id, provider_kind)``;
- ``tenant_policies(find_tenant)`` — each tenant's policy from its configuration (the composition root,
  ``core.services``, builds the process's guard from settings: ``PII_VAULT``, ``PII_TOKENIZE``);
- vaults: ``LocalVault`` (embedded default), ``KeyVaultVault``, ``CosmosEnvelopeVault``; ``pii_field`` marks
  pydantic fields as PII.
"""

from __future__ import annotations

from .detect import detect
from .guard import PiiGuard, PiiSession, TenantPiiPolicy, tenant_policies
from .known import KnownEntities
from .spans import Label, Span
from .structured import pii_field
from .tokens import RestoreReport, TokenMap
from .vaults import MappingRecord, MappingVault, VaultError, build_vault

__all__ = [
    "KnownEntities", "Label", "MappingRecord", "MappingVault", "PiiGuard", "PiiSession", "RestoreReport", "Span",
    "TenantPiiPolicy", "TokenMap", "VaultError", "build_vault", "detect", "pii_field", "tenant_policies",
]
