"""Zendesk Support adapter (``TicketDesk``): tickets create/update and comments.

``https://{subdomain}.zendesk.com/api/v2/…`` with API-token basic auth (``{email}/token:{token}``); cursor
pagination (``page[size]``, ``meta.has_more``, ``links.next``); 429 ``Retry-After`` honoured. A create first looks
the ticket up by ``external_id`` (our ticket id), so a retry after a lost response never opens a duplicate.
"""

from __future__ import annotations

import re
from typing import Any

from core.pii.cards import mask_card_numbers

from .http import VendorClient, vendor_base_url
from .ports import TicketRef, TicketRequest


class ZendeskClient(VendorClient):
    def __init__(self, tenant_id: str, subdomain: str, email: str, api_token: str, *,
                 url_template: str = "https://{subdomain}.zendesk.com/api/v2/", **kwargs: Any):
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", subdomain):
            raise ValueError("Zendesk subdomain must be letters, digits and dashes")
        super().__init__("zendesk", tenant_id, vendor_base_url(url_template, subdomain=subdomain),
                         auth=(f"{email}/token", api_token), headers={"Accept": "application/json"}, **kwargs)


def _cursor_next(response, data: dict) -> str | None:
    meta = data.get("meta") or {}
    return (data.get("links") or {}).get("next") if meta.get("has_more") else None


class ZendeskTicketDesk:
    def __init__(self, client: ZendeskClient):
        self.client = client

    @staticmethod
    def _ref(ticket: dict[str, Any]) -> TicketRef:
        return TicketRef(id=str(ticket["id"]), status=ticket.get("status", "new"), url=ticket.get("url"))

    def create_ticket(self, tenant_id: str, ticket: TicketRequest) -> TicketRef:
        if ticket.external_id:
            found = self.client.request("GET", "tickets.json", params={"external_id": ticket.external_id}).json()
            if found.get("tickets"):
                return self._ref(found["tickets"][0])
        body: dict[str, Any] = {
            "subject": ticket.subject, "comment": {"body": ticket.description, "public": False},
            "priority": ticket.priority if ticket.priority in ("low", "normal", "high", "urgent") else "normal",
            "tags": ticket.tags,
        }
        if ticket.external_id:
            body["external_id"] = ticket.external_id
        if ticket.requester_email:
            body["requester"] = {"email": ticket.requester_email, "name": ticket.requester_name or
                                 ticket.requester_email.split("@")[0]}
        created = self.client.request("POST", "tickets.json", json={"ticket": body}).json()
        return self._ref(created["ticket"])

    def update_ticket(self, tenant_id: str, ticket_id: str, *, status: str | None = None,
                      assignee_id: str | None = None, comment: str | None = None, public: bool = False) -> TicketRef:
        body: dict[str, Any] = {}
        if status:
            body["status"] = status
        if assignee_id:
            body["assignee_id"] = int(assignee_id)
        if comment:
            body["comment"] = {"body": mask_card_numbers(comment), "public": public}
        updated = self.client.request("PUT", f"tickets/{int(ticket_id)}.json", json={"ticket": body}).json()
        return self._ref(updated["ticket"])

    def list_comments(self, tenant_id: str, ticket_id: str) -> list[dict[str, Any]]:
        return self.client.paginate(f"tickets/{int(ticket_id)}/comments.json", "comments",
                                    params={"page[size]": 100}, next_url=_cursor_next)
