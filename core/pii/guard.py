"""``PiiGuard``: what the LLM router calls around a third-party model call.

    if guard.applies(tenant_id, provider_kind):
        messages, pii = guard.protect(tenant_id, conversation_id, messages, known)
        output = provider.chat(messages)          # the vault write runs meanwhile
        reply, report = guard.restore(pii, output)  # report.foreign -> the output critic

A turn costs one vault read (``protect`` opens the conversation's map) and at most one write (started in the
background as soon as new tokens exist, so it overlaps the model call; ``restore`` waits for it).
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from .detect import detect
from .known import KnownEntities
from .spans import Label
from .structured import marked_values, transform
from .tokens import RestoreReport, TokenMap
from .vaults.port import MappingRecord, MappingVault

log = logging.getLogger("shopdesk.pii")

# Providers inside the tenant's perimeter see raw text unless the tenant's policy says "always" (e.g. HIPAA).
IN_PERIMETER = frozenset({"azure_openai", "azure-openai", "azure", "offline"})
POLICY_THIRD_PARTY = "third_party"
POLICY_ALWAYS = "always"


@dataclass
class TenantPiiPolicy:
    tokenize: str = POLICY_THIRD_PARTY  # "third_party" or "always"
    retention_days: int = 365


@dataclass
class PiiSession:
    """One conversation's token map for the duration of a turn."""

    tenant_id: str
    conversation_id: str
    tokens: TokenMap
    expires_at: datetime
    known: KnownEntities = field(default_factory=KnownEntities)
    detached: bool = False  # the vault could not be read: tokens are new for this turn and are not written back
    _pending: Future | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def size(self) -> int:
        return len(self.tokens.entries)


def tenant_policies(find_tenant: Callable[[str], Any]) -> Callable[[str], TenantPiiPolicy]:
    """Each tenant's policy from its configuration (``pii_tokenization``, ``retention_days``) as ``find_tenant``
    returns it; the defaults for an unknown tenant or a configuration that cannot be read."""

    def policy(tenant_id: str) -> TenantPiiPolicy:
        try:
            tenant = find_tenant(tenant_id)
        except Exception as exc:  # the store is unreachable: the safe defaults, and the failure is logged
            log.warning("pii policy unreadable tenant=%s: %s", tenant_id, type(exc).__name__)
            tenant = None
        if tenant is None:
            return TenantPiiPolicy()
        return TenantPiiPolicy(tokenize=getattr(tenant, "pii_tokenization", None) or POLICY_THIRD_PARTY,
                               retention_days=tenant.retention_days)

    return policy


#: ``(tenant_id, conversation_id, action, outcome)``: told of every vault read and write (the audit log).
VaultAccess = Callable[[str, str, str, str], None]


class PiiGuard:
    def __init__(self, vault: MappingVault, *, policy: Callable[[str], TenantPiiPolicy] | None = None,
                 always: bool = False, background_writes: bool = True, on_vault_access: VaultAccess | None = None):
        """``policy``: each tenant's policy (the defaults for every tenant when omitted); ``on_vault_access``:
        told of every read and write of a conversation's map (the composition root audits them)."""
        self.vault = vault
        self.policy = policy or (lambda tenant_id: TenantPiiPolicy())
        self.always = always
        self.on_vault_access = on_vault_access
        self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="pii-vault") if background_writes \
            else None

    # Policy -------------------------------------------------------------------------------------------------
    def applies(self, tenant_id: str, provider_kind: str) -> bool:
        """Tokenize for this provider? Third-party providers always; in-perimeter ones when the tenant forces it."""
        if provider_kind.lower() not in IN_PERIMETER:
            return True
        return self.always or self.policy(tenant_id).tokenize == POLICY_ALWAYS

    # Sessions ---------------------------------------------------------------------------------------------------
    def open(self, tenant_id: str, conversation_id: str) -> PiiSession:
        """Load the conversation's map (the one vault read of a turn)."""
        policy = self.policy(tenant_id)
        detached = False
        try:
            record = self.vault.load(tenant_id, conversation_id)
            self._audit_vault(tenant_id, conversation_id, "pii_vault.read", "ok")
        except Exception as exc:
            # Still safe: the turn tokenizes with fresh tokens and restores from memory; only the link to earlier
            # turns' tokens is lost, and the stored map is not overwritten.
            log.warning("pii vault read failed tenant=%s: %s; tokens are new for this turn", tenant_id,
                        type(exc).__name__)
            self._audit_vault(tenant_id, conversation_id, "pii_vault.read", "failed")
            record, detached = None, True
        tokens = TokenMap.from_entries(tenant_id, conversation_id, record.entries if record else [])
        expires = datetime.now(UTC) + timedelta(days=policy.retention_days)
        return PiiSession(tenant_id, conversation_id, tokens, expires, detached=detached)

    def flush(self, session: PiiSession) -> None:
        """Write the map if it changed, and wait for any write in flight."""
        pending = session._pending
        if pending is not None:
            pending.result()
            session._pending = None
        if session.tokens.dirty:
            self._write(session)

    def _write(self, session: PiiSession) -> None:
        with session._lock:
            if not session.tokens.dirty or session.detached:
                return
            record = MappingRecord(session.tokens.to_entries(), session.expires_at)
            session.tokens.dirty = False
        try:
            self.vault.save(session.tenant_id, session.conversation_id, record)
            self._audit_vault(session.tenant_id, session.conversation_id, "pii_vault.write", "ok")
        except Exception as exc:
            # The reply is restored from memory either way; the next turn will mint new tokens.
            session.tokens.dirty = True
            log.warning("pii vault write failed tenant=%s: %s", session.tenant_id, type(exc).__name__)
            self._audit_vault(session.tenant_id, session.conversation_id, "pii_vault.write", "failed")
            return
        log.debug("pii map saved tenant=%s entries=%d", session.tenant_id, len(record.entries))

    def _write_soon(self, session: PiiSession) -> None:
        if not session.tokens.dirty:
            return
        if self._executor is None:
            self._write(session)
            return
        previous = session._pending
        if previous is not None:
            previous.result()
        session._pending = self._executor.submit(self._write, session)

    # Tokenize / restore ---------------------------------------------------------------------------------------
    def protect(self, tenant_id: str, conversation_id: str, content: Any, known: KnownEntities | None = None, *,
                lang: str | None = None, session: PiiSession | None = None) -> tuple[Any, PiiSession]:
        """Tokenize a text, a list of texts, OpenAI-style chat messages, or a pydantic model (PII-marked fields
        whole).

        Returns the tokenized copy and the session to restore the model's output with.
        """
        session = session or self.open(tenant_id, conversation_id)
        if (session.tenant_id, session.conversation_id) != (tenant_id, conversation_id):
            raise ValueError("session belongs to another conversation")
        if session._pending is not None:  # the map must not change while a write snapshots it
            session._pending.result()
            session._pending = None
        if known:
            session.known.extend(known)
        structured = list(marked_values(content)) if isinstance(content, BaseModel | list | dict) else []
        for label, value in structured:
            session.known.add(label, value)
        result = self._tokenize(session, content, lang)
        self._write_soon(session)
        return result, session

    def tokenize_text(self, session: PiiSession, text: str, lang: str | None = None) -> str:
        return session.tokens.tokenize(text, detect(text, lang, session.known))

    def _tokenize(self, session: PiiSession, content: Any, lang: str | None) -> Any:
        if isinstance(content, str):
            return self.tokenize_text(session, content, lang)
        if isinstance(content, BaseModel):
            return transform(content, lambda label, value: session.tokens.token_for(label, value),
                             lambda text: self.tokenize_text(session, text, lang))
        if isinstance(content, list) and all(isinstance(item, str) for item in content):
            return [self.tokenize_text(session, item, lang) for item in content]
        if isinstance(content, list):
            messages = copy.deepcopy(content)
            for message in messages:
                self._tokenize_message(session, message, lang)
            return messages
        if isinstance(content, dict):
            message = copy.deepcopy(content)
            self._tokenize_message(session, message, lang)
            return message
        raise TypeError(f"cannot tokenize {type(content).__name__}")

    def _tokenize_message(self, session: PiiSession, message: dict[str, Any], lang: str | None) -> None:
        body = message.get("content")
        if isinstance(body, str):
            message["content"] = self.tokenize_text(session, body, lang)
        elif isinstance(body, list):
            for part in body:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    part["text"] = self.tokenize_text(session, part["text"], lang)
        for call in message.get("tool_calls") or []:
            function = call.get("function") if isinstance(call, dict) else None
            if function and isinstance(function.get("arguments"), str):
                function["arguments"] = self.tokenize_text(session, function["arguments"], lang)

    def restore(self, session: PiiSession, model_output: str) -> tuple[str, RestoreReport]:
        """Put the values back; tokens from elsewhere stay as they are and are listed in ``report.foreign``."""
        text, report = session.tokens.restore(model_output)
        self.flush(session)
        if report.foreign:
            log.warning("pii restore: %d token(s) not from this conversation tenant=%s", len(report.foreign),
                        session.tenant_id)
        return text, report

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)

    def _audit_vault(self, tenant_id: str, conversation_id: str, action: str, outcome: str) -> None:
        """HIPAA tenants: every read and write of a conversation's token map is in the audit log (ids hashed)."""
        if self.on_vault_access is None:
            return
        try:
            self.on_vault_access(tenant_id, conversation_id, action, outcome)
        except Exception as exc:  # auditing must not break tokenization; the failure itself is logged
            log.warning("pii vault audit failed tenant=%s: %s", tenant_id, type(exc).__name__)


__all__ = ["IN_PERIMETER", "Label", "PiiGuard", "PiiSession", "TenantPiiPolicy", "tenant_policies"]
