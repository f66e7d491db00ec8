"""Who a chat customer is, and how sure the desk is of it.

Three levels:
- **anonymous**: nothing is known. The desk answers general questions; an order is disclosed only when the
  conversation gives its number *and* the e-mail address on that order.
- **unverified**: the chat body names a customer (``customer``: id, e-mail, name) that nobody signed. The e-mail is
  treated exactly like one typed in the conversation: with an order number it can prove ownership of that order,
  nothing more (no listing of "my orders"). The name is only used to address the customer.
- **verified**: the shop's back end vouches for its signed-in customer. Either an ``identity_token`` in the chat
  body (a HS256 JWT signed with the tenant's identity secret, as Zendesk's messaging JWT and Intercom's identity
  verification do; claims ``external_id`` or ``sub``, ``email``, ``name``, ``exp``), or a session token the shop
  obtained from the operator API with a ``customer_ref``. A verified customer may list their own orders.

A conversation started by a verified customer is bound to that identity: continuing it needs the same verified
identity (a different or partial one is refused).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from core.config import tenant_setting
from core.models import CustomerRef

ALGORITHMS = ["HS256"]
MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600
CLOCK_SKEW_SECONDS = 60


class IdentityError(Exception):
    """The presented identity is refused: ``status`` 401 (not valid) or 403 (valid, but not this caller's)."""

    def __init__(self, status: int, detail: str, field: str = "identity_token"):
        super().__init__(detail)
        self.status, self.detail, self.field = status, detail, field


@dataclass(frozen=True)
class CustomerIdentity:
    """``verified`` is who the shop vouches for (or None); ``claimed`` what the chat body says, unverified."""

    verified: CustomerRef | None = None
    claimed: CustomerRef | None = None

    @property
    def level(self) -> str:
        return "verified" if self.verified else "unverified" if self.claimed else "anonymous"


def verify_identity_token(token: str, secret: bytes, *, now: float | None = None) -> CustomerRef:
    """The customer a shop's identity token names, or IdentityError(401)."""
    try:
        claims = jwt.decode(token, secret, algorithms=ALGORITHMS, leeway=CLOCK_SKEW_SECONDS,
                            options={"require": ["exp"], "verify_aud": False})
    except jwt.ExpiredSignatureError:
        raise IdentityError(401, "The identity token has expired; the shop must sign a new one.") from None
    except jwt.PyJWTError:
        raise IdentityError(401, "The identity token is not valid for this shop.") from None
    current = now if now is not None else time.time()
    issued = claims.get("iat")
    if isinstance(issued, (int, float)) and issued > current + CLOCK_SKEW_SECONDS:
        raise IdentityError(401, "The identity token is not valid yet.")
    if float(claims["exp"]) - (issued if isinstance(issued, (int, float)) else current) > MAX_TOKEN_LIFETIME_SECONDS:
        raise IdentityError(401, "The identity token lives longer than 24 hours; sign a shorter-lived one.")
    customer_id = claims.get("external_id", claims.get("sub"))
    email, name = claims.get("email"), claims.get("name")
    try:
        customer = CustomerRef(id=str(customer_id) if customer_id not in (None, "") else None,
                               email=email or None, name=name or None)
    except ValueError:
        raise IdentityError(401, "The identity token's claims are not a valid customer (external_id, email, "
                                 "name).") from None
    if not customer.id and not customer.email:
        raise IdentityError(401, "The identity token names no customer (external_id or email).")
    return customer


def identity_secret(settings, tenant_id: str) -> bytes | None:
    """The tenant's identity secret, or None when the shop has not configured one."""
    _, value = tenant_setting(settings.CHAT_IDENTITY_SECRET_NAME, tenant_id)
    return value.encode("utf-8") if value else None


def resolve(settings, tenant_id: str, *, identity_token: str | None, claimed: CustomerRef | None,
            session_subject: str | None, now: float | None = None) -> CustomerIdentity:
    """The caller's identity from what it presented; IdentityError when a presented credential is refused or two
    credentials disagree."""
    verified: CustomerRef | None = None
    if identity_token is not None:
        secret = identity_secret(settings, tenant_id)
        if secret is None:
            raise IdentityError(401, "This shop has no identity secret configured, so identity tokens cannot be "
                                     "verified.")
        verified = verify_identity_token(identity_token, secret, now=now)
    if session_subject:
        if verified is None:
            verified = CustomerRef(id=session_subject)
        elif verified.id != session_subject:
            raise IdentityError(403, "The identity token names another customer than the session token.")
    return CustomerIdentity(verified=verified, claimed=claimed)


def same_customer(bound: CustomerRef, presented: CustomerRef | None) -> bool:
    """Whether ``presented`` is the customer a conversation is bound to: every field the binding has must match."""
    if presented is None:
        return False
    if bound.id and presented.id != bound.id:
        return False
    return not (bound.email and (presented.email or "").lower() != bound.email.lower())
