"""Tenant authorization: customer chat (public widget key or signed session token) and the operator API.

- Chat: ``X-Tenant-Key`` must be one of the tenant's widget keys (tenant.json ``widget_keys`` + ``CHAT_TENANT_KEYS``),
  or ``Authorization: Bearer <session token>`` a token this platform signed for that tenant. Neither is needed
  unless the tenant (``require_chat_key``, always for HIPAA) or the platform (``CHAT_REQUIRE_TENANT_KEY``) says so;
  a key or token that is presented is always checked.
- Session tokens: ``base64url(json claims) "." base64url(HMAC-SHA256)``; claims ``t`` (tenant), ``s`` (scope:
  ``chat``, ``operator`` or ``conversation``), ``exp``, ``iat``, optional ``c`` (conversation) and ``u`` (customer
  reference).
- Conversations: every chat turn returns a conversation token (scope ``conversation``, bound to the tenant and the
  conversation). Continuing a conversation, reading it or polling one of its turns needs the chat credential *and*
  that token (``X-Conversation-Token``), or a session token bound to the conversation: the conversation id alone
  proves nothing.
- Operator API: the host checks the function key (locally and in Azure). With ``OPERATOR_AUTH=entra`` an App
  Service authentication principal (``X-MS-CLIENT-PRINCIPAL``) with the app role ``Operator.All`` or
  ``Operator.<tenant>`` is required; an operator token or principal always narrows access to its tenant.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from core import jsonsafe
from core.config import Settings

KEY_FILE = "session-token.key"
ROLE_ALL = "Operator.All"


class AuthError(Exception):
    """Refused: ``status`` 401 (no or bad credentials) or 403 (valid credentials, another tenant or scope)."""

    def __init__(self, status: int, title: str, detail: str):
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


@dataclass(frozen=True)
class Principal:
    """Who is calling: ``kind`` is customer | operator; ``via`` how it was proven; ``subject`` a non-PII id."""

    kind: str
    tenant_id: str | None
    via: str
    subject: str = ""
    conversation_id: str | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signing_key(settings: Settings) -> bytes:
    """SESSION_TOKEN_KEY, or a random key kept (0600) under DATA_DIR when running locally."""
    if settings.SESSION_TOKEN_KEY:
        return settings.SESSION_TOKEN_KEY.encode("utf-8")
    path = Path(settings.DATA_DIR) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole under another name, then linked into place: a worker starting at the same time reads no
        # file or the whole key, never a file still empty (it would sign with another key than its sibling).
        fd, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{KEY_FILE}.")  # created 0600
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_hex(32).encode("ascii"))
            try:
                os.link(draft, path)
            except FileExistsError:  # another worker published its key first: everyone signs with that one
                pass
        finally:
            os.unlink(draft)
    return path.read_bytes()


def issue_token(settings: Settings, tenant_id: str, *, scope: str = "chat", ttl_seconds: int | None = None,
                conversation_id: str | None = None, subject: str | None = None, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    claims: dict[str, object] = {"t": tenant_id, "s": scope, "iat": issued,
                                 "exp": issued + (ttl_seconds or settings.SESSION_TOKEN_TTL_SECONDS)}
    if conversation_id:
        claims["c"] = conversation_id
    if subject:
        claims["u"] = subject
    body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    signature = hmac.new(signing_key(settings), body.encode("ascii"), hashlib.sha256).digest()
    return f"{body}.{_b64(signature)}"


def verify_token(settings: Settings, token: str, tenant_id: str, *, scope: str = "chat",
                 now: float | None = None) -> dict[str, object]:
    """The token's claims, or AuthError: 401 when forged, malformed or expired; 403 for another tenant or scope."""
    body, _, signature = token.strip().partition(".")
    try:
        expected = hmac.new(signing_key(settings), body.encode("ascii"), hashlib.sha256).digest()
        valid = hmac.compare_digest(expected, _unb64(signature))
        claims = jsonsafe.loads(_unb64(body)) if valid else None
    except (UnicodeError, binascii.Error, ValueError):
        valid, claims = False, None
    label = "conversation token" if scope == "conversation" else "session token"
    if not valid or not isinstance(claims, dict):
        raise AuthError(401, "Invalid token", f"The {label} is not valid.")
    if float(claims.get("exp", 0)) <= (now if now is not None else time.time()):
        raise AuthError(401, "Expired token", f"The {label} has expired; ask for a new one.")
    if claims.get("t") != tenant_id:
        raise AuthError(403, "Forbidden", "This token belongs to another shop.")
    if claims.get("s") != scope:
        raise AuthError(403, "Forbidden", f"This token is not valid for the {scope} API.")
    return claims


def widget_keys(settings: Settings, tenant) -> list[str]:
    configured = json.loads(settings.CHAT_TENANT_KEYS or "{}").get(tenant.id, [])
    return [k for k in [*tenant.widget_keys, *([configured] if isinstance(configured, str) else configured)] if k]


def _bearer(headers) -> str | None:
    value = headers.get("authorization") or ""
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def key_fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


def authorize_chat(settings: Settings, tenant, headers) -> Principal:
    """``tenant``: the TenantConfig of the route; ``headers``: a case-insensitive mapping of request headers."""
    presented = headers.get("x-tenant-key")
    token = _bearer(headers)
    if presented is not None:
        keys = widget_keys(settings, tenant)
        if any(hmac.compare_digest(presented.encode("utf-8"), k.encode("utf-8")) for k in keys):
            return Principal("customer", tenant.id, "widget_key", f"key:{key_fingerprint(presented)}")
        raise AuthError(403, "Forbidden", "X-Tenant-Key is not a key of this shop.")
    if token is not None:
        claims = verify_token(settings, token, tenant.id, scope="chat")
        return Principal("customer", tenant.id, "session_token", str(claims.get("u") or ""),
                         conversation_id=claims.get("c"))  # type: ignore[arg-type]
    if tenant.require_chat_key or settings.CHAT_REQUIRE_TENANT_KEY:
        raise AuthError(401, "Unauthorized", "This shop's chat needs an X-Tenant-Key header or a session token.")
    return Principal("customer", tenant.id, "anonymous")


def idempotent_conversation_id(settings: Settings, tenant_id: str, caller: Principal, idempotency_key: str) -> str:
    """The conversation a first turn sent with ``Idempotency-Key`` starts: the same for a retry of that request by
    the same caller, unguessable without the platform's key."""
    message = "|".join(("first-turn", tenant_id, caller.via, caller.subject, idempotency_key)).encode("utf-8")
    return hmac.new(signing_key(settings), message, hashlib.sha256).hexdigest()[:32]


def issue_conversation_token(settings: Settings, tenant_id: str, conversation_id: str, *,
                             now: float | None = None) -> str:
    return issue_token(settings, tenant_id, scope="conversation", conversation_id=conversation_id,
                       ttl_seconds=settings.CONVERSATION_TOKEN_TTL_SECONDS, now=now)


def authorize_conversation(settings: Settings, caller: Principal, headers, conversation_id: str, *,
                           now: float | None = None) -> None:
    """Proof that ``conversation_id`` is the caller's: its conversation token, or a session token bound to it.
    AuthError 401 when no proof is given or it is not valid, 403 when it proves another conversation."""
    if caller.conversation_id is not None:
        if caller.conversation_id != conversation_id:
            raise AuthError(403, "Forbidden", "The session token is bound to another conversation.")
        return
    token = (headers.get("x-conversation-token") or "").strip()
    if not token:
        raise AuthError(401, "Conversation token required", "Continuing or reading a conversation needs the "
                        "X-Conversation-Token header its first turn returned.")
    assert caller.tenant_id is not None
    claims = verify_token(settings, token, caller.tenant_id, scope="conversation", now=now)
    if claims.get("c") != conversation_id:
        raise AuthError(403, "Forbidden", "The conversation token belongs to another conversation.")


def client_principal(headers) -> dict | None:
    """The App Service authentication principal (base64 JSON in X-MS-CLIENT-PRINCIPAL), if any."""
    raw = headers.get("x-ms-client-principal")
    if not raw:
        return None
    try:
        principal = jsonsafe.loads(base64.b64decode(raw))
    except (binascii.Error, ValueError) as exc:
        raise AuthError(401, "Unauthorized", "The signed-in principal could not be read.") from exc
    return principal if isinstance(principal, dict) else None


def _roles(principal: dict) -> set[str]:
    role_type = principal.get("role_typ") or "roles"
    return {str(c.get("val")) for c in principal.get("claims", []) if c.get("typ") in (role_type, "roles")}


def authorize_operator(settings: Settings, tenant_id: str, headers) -> Principal:
    """The host has already checked the function key; this scopes the caller to ``tenant_id``."""
    principal = client_principal(headers)
    if principal is not None:
        roles = _roles(principal)
        if ROLE_ALL in roles or f"Operator.{tenant_id}" in roles:
            oid = next((str(c.get("val")) for c in principal.get("claims", [])
                        if c.get("typ") in ("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid")),
                       "")
            return Principal("operator", tenant_id, "entra", f"oid:{oid}" if oid else "entra")
        raise AuthError(403, "Forbidden", f"The signed-in operator has no role for tenant '{tenant_id}'.")
    token = _bearer(headers)
    if token is not None:
        claims = verify_token(settings, token, tenant_id, scope="operator")
        return Principal("operator", tenant_id, "operator_token", str(claims.get("u") or ""))
    if settings.OPERATOR_AUTH == "entra":
        raise AuthError(401, "Unauthorized", "Sign in with Entra ID to use the operator API.")
    return Principal("operator", None, "function_key", "function_key")
