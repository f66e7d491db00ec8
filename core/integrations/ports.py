"""Integration ports: what agents need from the shop's systems, whatever the vendor.

Adapters: Shopify Admin REST (``shopify.py``), Zendesk Support (``zendesk.py``), Mailchimp Transactional
(``mailchimp.py``), GA4 Measurement Protocol (``ga4.py``); local sandboxes that read the tenant's imported Shopify
exports and record outgoing tickets, emails and events in the document store (``sandbox.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from core.pii.cards import mask_card_numbers


class IntegrationError(RuntimeError):
    """A vendor call failed for good (after retries), or was refused (4xx). Never carries credentials."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class ShopData(Protocol):
    """Orders, catalogue and customers (Shopify-shaped dicts): what a chat turn reads of the shop."""

    def find_order(self, tenant_id: str, number: str) -> dict[str, Any] | None: ...

    def orders_for(self, tenant_id: str, customer: Any) -> list[dict[str, Any]]: ...

    def match_products(self, tenant_id: str, text: str, limit: int = 3, *, max_staleness: float = 0.0
                       ) -> list[tuple[dict[str, Any], float]]:
        """Products the text names, best first; the catalogue may be up to ``max_staleness`` seconds old (or
        the adapter's own cache age, when it keeps one)."""
        ...

    def get_product(self, tenant_id: str, product_id: str) -> dict[str, Any] | None: ...

    def all_products(self, tenant_id: str) -> list[dict[str, Any]]: ...


class ActionRefused(IntegrationError):
    """The shop refused a write because of the order's state (already fulfilled, already cancelled...)."""


class ActionUnsupported(IntegrationError):
    """This shop's API cannot make that change itself: a person at the shop has to."""


class ShopActions(Protocol):
    """Writes on an order (Shopify-shaped dicts in and out). ``action_id`` makes each call idempotent: a call
    repeated with the same id changes nothing more and returns the order as the first call left it."""

    def cancel_order(self, tenant_id: str, number: str, *, reason: str, action_id: str) -> dict[str, Any]: ...

    def change_shipping_address(self, tenant_id: str, number: str, address: dict[str, Any], *,
                                action_id: str) -> dict[str, Any]: ...

    def change_items(self, tenant_id: str, number: str, changes: list[dict[str, Any]], *,
                     action_id: str) -> dict[str, Any]: ...

    def record_return(self, tenant_id: str, number: str, request: dict[str, Any], *,
                      action_id: str) -> dict[str, Any]:
        """A return or exchange request (``request``: id, kind, items, reason) recorded on the order."""
        ...

    def refund(self, tenant_id: str, number: str, amount: str, *, currency: str, note: str,
               action_id: str) -> dict[str, Any]: ...


@dataclass
class TicketRequest:
    subject: str
    description: str
    requester_email: str | None = None
    requester_name: str | None = None
    priority: str = "normal"  # low | normal | high | urgent
    tags: list[str] = field(default_factory=list)
    external_id: str | None = None  # our ticket id, so a retried create can be recognised

    def __post_init__(self) -> None:
        # Whatever desk the ticket goes to, it never receives a card number: only its last four digits.
        self.subject, self.description = mask_card_numbers(self.subject), mask_card_numbers(self.description)


@dataclass
class TicketRef:
    id: str
    status: str
    url: str | None = None


class TicketDesk(Protocol):
    def create_ticket(self, tenant_id: str, ticket: TicketRequest) -> TicketRef: ...

    def update_ticket(self, tenant_id: str, ticket_id: str, *, status: str | None = None,
                      assignee_id: str | None = None, comment: str | None = None, public: bool = False
                      ) -> TicketRef: ...

    def list_comments(self, tenant_id: str, ticket_id: str) -> list[dict[str, Any]]: ...


@dataclass
class EmailMessage:
    to_email: str
    subject: str
    text: str
    to_name: str | None = None
    html: str | None = None
    tags: list[str] = field(default_factory=list)


@dataclass
class SendResult:
    id: str
    status: str  # sent | queued | scheduled | rejected | invalid


class Notifier(Protocol):
    def send(self, tenant_id: str, message: EmailMessage) -> SendResult: ...


class AnalyticsSink(Protocol):
    """Product analytics events (GA4). ``client_id`` is a pseudonymous id, never an email."""

    def track(self, tenant_id: str, client_id: str, events: list[dict[str, Any]]) -> int: ...
