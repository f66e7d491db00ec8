"""The router's view of PII protection (``core.llm.pii_policy.PiiGuard``): lists of texts in, lists of problems out.

The composition root (``core.services``) wraps the process's ``PiiGuard`` in it and hands it to the router.
"""

from __future__ import annotations

from typing import Any

from .guard import PiiGuard, PiiSession
from .known import KnownEntities
from .patterns import EMAIL
from .spans import Label


def infer_label(value: str) -> str:
    """The label of a bare known value (the router passes values without their kind)."""
    text = value.strip()
    if EMAIL.fullmatch(text):
        return Label.EMAIL
    digits = sum(c.isdigit() for c in text)
    if text.startswith("+") or (digits >= 10 and not any(c.isalpha() for c in text) and len(text) <= 20):
        return Label.PHONE
    if digits and any(c.isalpha() for c in text) and " " in text and digits <= 6:
        return Label.ADDRESS
    if digits:
        return Label.ID_NUMBER
    return Label.PERSON


def known_from_strings(values: list[str] | None) -> KnownEntities:
    return KnownEntities.from_values((infer_label(v), v) for v in values or [] if v and str(v).strip())


class RouterGuard:
    def __init__(self, guard: PiiGuard):
        self.guard = guard

    def protect(self, tenant_id: str, conversation_id: str, texts: list[str],
                known_entities: list[str] | KnownEntities | None = None) -> tuple[list[str], PiiSession]:
        known = known_entities if isinstance(known_entities, KnownEntities) else known_from_strings(known_entities)
        tokenized, session = self.guard.protect(tenant_id, conversation_id, list(texts), known)
        return tokenized, session

    def restore(self, session: Any, text: str) -> tuple[str, list[str]]:
        restored, report = self.guard.restore(session, text)
        return restored, [f"foreign_token:{token}" for token in report.foreign]
