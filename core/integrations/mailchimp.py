"""Mailchimp Transactional (Mandrill) adapter (``Notifier``): ``POST /api/1.0/messages/send``.

The API key travels in the JSON body (that is the API's design), so bodies are never logged. A per-recipient
``rejected``/``invalid`` status is a result, not an exception; ``Invalid_Key`` and other API errors are.
"""

from __future__ import annotations

from typing import Any

from .http import VendorClient
from .ports import EmailMessage, IntegrationError, SendResult

MANDRILL_BASE = "https://mandrillapp.com/api/1.0/"


class MandrillClient(VendorClient):
    def __init__(self, tenant_id: str, api_key: str, **kwargs: Any):
        super().__init__("mailchimp", tenant_id, MANDRILL_BASE, headers={"Content-Type": "application/json"},
                         **kwargs)
        self._key = api_key

    def call(self, method: str, payload: dict[str, Any]) -> Any:
        try:
            return self.request("POST", method, json={"key": self._key, **payload}).json()
        except IntegrationError as exc:
            raise IntegrationError(f"mailchimp {method}: {exc.status}", exc.status) from None


class MailchimpNotifier:
    def __init__(self, client: MandrillClient, from_email: str, from_name: str | None = None):
        self.client, self.from_email, self.from_name = client, from_email, from_name

    def send(self, tenant_id: str, message: EmailMessage) -> SendResult:
        body: dict[str, Any] = {
            "from_email": self.from_email, "subject": message.subject, "text": message.text,
            "to": [{"email": message.to_email, "name": message.to_name, "type": "to"}],
            "tags": message.tags[:100], "metadata": {"tenant": tenant_id}, "track_opens": False,
            "track_clicks": False,
        }
        if self.from_name:
            body["from_name"] = self.from_name
        if message.html:
            body["html"] = message.html
        results = self.client.call("messages/send", {"message": body})
        first = results[0] if isinstance(results, list) and results else {}
        return SendResult(id=str(first.get("_id", "")), status=str(first.get("status", "invalid")))
