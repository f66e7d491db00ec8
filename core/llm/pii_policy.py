"""The contract between the router and PII protection: what a third-party provider may see."""

from __future__ import annotations

from typing import Any, Protocol


class PiiGuard(Protocol):
    def protect(self, tenant_id: str, conversation_id: str, texts: list[str],
                known_entities: list[str]) -> tuple[list[str], Any]:
        """Replace PII with ``TOKEN_<uuid4>`` tokens; returns the tokenized texts and a session to restore with."""
        ...

    def restore(self, session: Any, text: str) -> tuple[str, list[str]]:
        """Put the original values back; returns the text and problems found (e.g. foreign tokens)."""
        ...
