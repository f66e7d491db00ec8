"""Customers asking for order actions over HTTP, on a shop onboarded from its own files (the demo shop's exports
with a return window wide enough for its delivered orders, whatever today's date): the stories that
test_order_actions_over_http.py runs on the imported orders and test_vendor_standins_over_http.py on the Shopify
stand-in. Each story uses orders no other story changes."""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.conftest import REPO
from tests.integration.hosting import wait_for

DEMO = REPO / "knowledge/tenants/demo"
MARIE, EMILY = "marie-eve.gagnon@example.com", "emily.chen@example.com"


def shop_folder(destination: Path, tenant_id: str = "demo", **integrations: str) -> Path:
    """A copy of the demo shop's files, as tenant ``tenant_id``, whose tenant.json allows returns of any delivered
    order and approves refunds up to 500 (a paid order's cancellation refunds it)."""
    shutil.copytree(DEMO, destination)
    config = json.loads((destination / "tenant.json").read_text())
    config["id"] = tenant_id
    config["actions"] = {"return_window_days": 3650}
    config["escalation"] = {**config.get("escalation", {}), "refund_auto_approve_limit": 500}
    if integrations:
        config["integrations"] = {**config.get("integrations", {}), **integrations}
    (destination / "tenant.json").write_text(json.dumps(config))
    return destination


@dataclass
class Desk:
    base: str
    tenant: str
    key: str

    def audit(self) -> list[dict]:
        response = httpx.get(f"{self.base}/api/operator/tenants/{self.tenant}/audit", timeout=10,
                             headers={"x-functions-key": self.key})
        assert response.status_code == 200, response.text
        return response.json()["records"]

    def conversation(self, locale: str | None = None) -> Conversation:
        return Conversation(self, locale)


@dataclass
class Conversation:
    desk: Desk
    locale: str | None = None
    ids: dict = field(default_factory=dict)

    def say(self, message: str, idempotency_key: str | None = None) -> dict:
        headers = {"X-Conversation-Token": self.ids["token"]} if self.ids else {}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        body = {"message": message, "locale": self.locale, "conversation_id": self.ids.get("id")}
        response = httpx.post(f"{self.desk.base}/api/tenants/{self.desk.tenant}/chat", json=body, headers=headers,
                              timeout=60)
        token = self.ids.get("token")
        if response.status_code == 202:  # a slow turn: poll its status URL, as a client does
            pending = response.json()
            token = pending["conversation_token"]
            response = wait_for(lambda: (r := httpx.get(
                f"{self.desk.base}{pending['status_url']}", timeout=10,
                headers={"X-Conversation-Token": pending["conversation_token"]})).status_code == 200 and r, timeout=120)
        assert response and response.status_code == 200, response.text if response else "no answer"
        answer = response.json()
        self.ids = {"id": answer["conversation_id"], "token": answer.get("conversation_token") or token}
        return answer


def status_of(desk: Desk, number: str, email: str) -> str:
    """What a new conversation is told about the order."""
    return desk.conversation().say(f"Where is my order #{number}? My email is {email}")["reply"]


def done(desk: Desk, tool: str) -> list[dict]:
    return [r for r in desk.audit() if r["action"] == f"order.{tool}" and r["outcome"] == "done"]


# The stories ------------------------------------------------------------------------------------------------------
def an_unshipped_order_is_cancelled_only_after_the_customer_confirms(desk: Desk) -> None:
    chat = desk.conversation()
    asked = chat.say("I want to cancel my order #1038")
    assert "e-mail" in asked["reply"] and "#1038" in asked["reply"], asked["reply"]
    proposal = chat.say(MARIE)["reply"]
    assert "cancel order #1038" in proposal and "158.21" in proposal and "yes" in proposal, proposal
    assert "cancelled" not in status_of(desk, "1038", MARIE)  # listed, not done
    key = uuid.uuid4().hex
    confirmed = chat.say("yes", idempotency_key=key)
    assert confirmed["reply"].startswith("Done: order #1038 is cancelled"), confirmed["reply"]
    # The same request retried returns the same turn; a second "yes" has nothing left to confirm.
    assert chat.say("yes", idempotency_key=key)["turn_id"] == confirmed["turn_id"]
    assert "Done" not in chat.say("yes")["reply"]
    assert len(done(desk, "cancel_order")) == 1
    # A new conversation reports the order cancelled.
    assert "#1038" in (later := status_of(desk, "1038", MARIE)) and "cancelled" in later, later


def a_stranger_cannot_cancel_an_order(desk: Desk) -> None:
    stranger = desk.conversation()
    refused = stranger.say("Please cancel order 1039, my email is stranger@example.com")["reply"]
    assert "can't change order #1039" in refused, refused
    assert "Done" not in stranger.say("yes")["reply"]
    assert "has not shipped yet" in status_of(desk, "1039", "valentina.ramirez@example.com")
    # Nor can someone who proved another order theirs in the same conversation.
    owner = desk.conversation()
    owner.say("Please cancel order 1040, my email is sophie.bouchard@example.org")
    other = owner.say("Cancel order 1039 too please, its email is valentina.ramirez@example.com")["reply"]
    assert "only change the orders of the customer who identified themselves here" in other, other
    assert "Done" not in owner.say("yes")["reply"]
    assert "has not shipped yet" in status_of(desk, "1039", "valentina.ramirez@example.com")


def a_shipped_order_is_not_cancelled_and_a_return_is_offered(desk: Desk) -> None:
    in_transit = desk.conversation().say("Can you cancel order 1030? My email is jessica.miller@example.com")
    assert "already shipped" in in_transit["reply"] and "Once it is delivered" in in_transit["reply"], in_transit
    chat = desk.conversation()
    delivered = chat.say("Please cancel my order 1024, email marie-eve.gagnon@example.com")["reply"]
    assert "already shipped" in delivered and "start a return" in delivered, delivered
    assert "cancelled" not in status_of(desk, "1024", MARIE)


def a_return_is_started_after_confirmation_and_reported_later_fr(desk: Desk) -> None:
    chat = desk.conversation("fr-CA")
    proposal = chat.say("Je veux retourner le Peppermint Poppy Seed Scrub Soap de ma commande 1027, mon courriel "
                        f"est {EMILY}")
    assert proposal["language"] == "fr" and "ouvrir un retour pour la commande n° 1027" in proposal["reply"], proposal
    assert "Peppermint Poppy Seed Scrub Soap" in proposal["reply"] and "oui" in proposal["reply"]
    assert "A return is open" not in status_of(desk, "1027", EMILY)
    confirmed = chat.say("oui")["reply"]
    assert confirmed.startswith("C'est fait : le retour R-"), confirmed
    return_id = confirmed.split("le retour ")[1].split()[0]
    later = status_of(desk, "1027", EMILY)
    assert f"A return is open on this order: {return_id}" in later, later


def an_unshipped_order_is_cancelled_in_spanish(desk: Desk) -> None:
    chat = desk.conversation("es")
    proposal = chat.say("Quiero cancelar mi pedido 1040, mi correo es sophie.bouchard@example.org")
    assert proposal["language"] == "es" and "cancelar el pedido #1040" in proposal["reply"], proposal
    assert chat.say("Sí")["reply"].startswith("Listo: el pedido #1040 está cancelado")
    assert "cancelled" in status_of(desk, "1040", "sophie.bouchard@example.org")


STORIES = [an_unshipped_order_is_cancelled_only_after_the_customer_confirms, a_stranger_cannot_cancel_an_order,
           a_shipped_order_is_not_cancelled_and_a_return_is_offered,
           a_return_is_started_after_confirmation_and_reported_later_fr, an_unshipped_order_is_cancelled_in_spanish]
