"""A chat over HTTP with ``SHOP_DATA=shopify`` and ``TICKET_DESK=zendesk`` pointed at the local stand-ins: the
production adapters answer an order question from the Shopify stand-in, an escalation becomes one ticket in the
Zendesk stand-in (once, however often the turn or its event is retried), and the agent's reply on that ticket
reaches the conversation through the Zendesk webhook; the order actions' stories write through the Shopify Admin
adapter to the stand-in's orders."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import shutil
import subprocess
import sys
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from core.devhost.standins.serve import StandIns, integrations_block
from tests.conftest import REPO
from tests.integration import order_actions_story as story
from tests.integration.hosting import HostProcess, host_env, wait_for

pytestmark = pytest.mark.integration

KEY = {"x-functions-key": "standins-function-key"}
ZENDESK_SECRET = "zd-standins-secret"
SHOPS = {"demo": REPO / "knowledge/tenants/demo", "northwind-tea": REPO / "tests/fixtures/tenants/northwind-tea"}
TRACKING = "7023315339500000"  # the stand-in's tracking number for #1001; the imported export has another


@pytest.fixture(scope="module")
def standins():
    with StandIns(SHOPS) as running:
        order = next(o for o in running.shops["demo.myshopify.com"].orders if o["name"] == "#1001")
        order["fulfillments"][0]["tracking_number"] = TRACKING
        yield running


@pytest.fixture(scope="module")
def host(standins, tmp_path_factory):
    """A host on an Azurite of its own (the agent queues have fixed names), every shop on the stand-ins."""
    from core.devhost import azurite
    from tests.integration.hosting import free_port

    location = tmp_path_factory.mktemp("standins-azurite")
    ports = (free_port(), free_port(), free_port())
    azurite.start(location, *ports)
    data_dir = tmp_path_factory.mktemp("standins-host")
    env = host_env(azurite.connection_string(*ports), data_dir, SHOP_DATA="shopify", TICKET_DESK="zendesk",
                   LOCAL_FUNCTION_KEY=KEY["x-functions-key"], ZENDESK_WEBHOOK_SECRET_DEMO=ZENDESK_SECRET,
                   EVENTS_RETRY_DELAYS="1,1,1", **standins.settings())
    for tenant, folder in SHOPS.items():
        copy = data_dir / "shops" / tenant
        shutil.copytree(folder, copy)
        config = json.loads((copy / "tenant.json").read_text())
        config["integrations"] = {**config.get("integrations", {}), **integrations_block(tenant)}
        config["actions"] = {"return_window_days": 3650}  # the order-action stories return any delivered order
        # and cancel a paid order without a person's approval of its refund
        config["escalation"] = {**config.get("escalation", {}), "refund_auto_approve_limit": 500}
        (copy / "tenant.json").write_text(json.dumps(config))
        subprocess.run([sys.executable, "-m", "core.tenants", "import", tenant, str(copy)], cwd=REPO, env=env,
                       check=True, capture_output=True)
    process = HostProcess(env, REPO, "function_app", data_dir / "host.log")
    process.start()
    yield process
    process.stop()
    azurite.stop(location)


def chat(host, message: str, **extra) -> dict:
    headers = extra.pop("headers", {})
    response = httpx.post(f"{host.base}/api/tenants/demo/chat", json={"message": message, **extra}, headers=headers,
                          timeout=30)
    if response.status_code == 202:  # a slow turn: poll its status URL, as a client does
        pending = response.json()
        response = wait_for(lambda: (r := httpx.get(
            f"{host.base}{pending['status_url']}", timeout=10,
            headers={"X-Conversation-Token": pending["conversation_token"]})).status_code == 200 and r, timeout=120)
    assert response and response.status_code == 200, response.text if response else "no answer"
    return response.json()


def desk_tickets(standins, ticket_id: str) -> list[dict]:
    return [t for t in standins.desks["demo"].tickets.values() if t["external_id"] == ticket_id]


def test_an_order_question_is_answered_from_the_shopify_stand_in(host):
    body = chat(host, "Where is my order #1001? My email is marie-eve.gagnon@example.com")
    assert body["intent"] == "order_status"
    assert "#1001" in body["reply"] and TRACKING in body["reply"], body["reply"]


def test_an_escalation_becomes_one_ticket_in_the_zendesk_stand_in_and_the_agents_reply_comes_back(host, standins):
    idempotency = {"Idempotency-Key": uuid.uuid4().hex}
    first = chat(host, "I want to speak to a human, this is ridiculous", headers=idempotency)
    ticket_id = first["escalation"]["ticket_id"]
    assert first["escalation"]["escalated"] and ticket_id
    [ticket] = wait_for(lambda: desk_tickets(standins, ticket_id))
    assert ticket["subject"].startswith("[demo]") and "shopdesk" in ticket["tags"]
    assert all(t["external_id"] != ticket_id for t in standins.desks["northwind-tea"].tickets.values())

    # The same request retried, and another escalating message in the conversation: still one desk ticket.
    again = chat(host, "I want to speak to a human, this is ridiculous", headers=idempotency)
    assert again["turn_id"] == first["turn_id"] and again["escalation"]["ticket_id"] == ticket_id
    token = {"X-Conversation-Token": first["conversation_token"]}
    later = chat(host, "Still nobody?!!! I want a person", conversation_id=first["conversation_id"], headers=token)
    assert later["escalation"]["ticket_id"] == ticket_id
    # The ticket's event delivered again (the operator's replay) is recognised: no second ticket.
    stats = lambda: httpx.get(f"{host.base}/api/operator/tenants/demo/events/stats", headers=KEY,  # noqa: E731
                              timeout=10).json()["totals"]
    before = stats().get("duplicates", 0)
    replay = httpx.post(f"{host.base}/api/operator/tenants/demo/events/replay", headers=KEY, timeout=10, json={
        "from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z", "agents": ["escalation"]})
    assert replay.status_code in (200, 202), replay.text
    assert wait_for(lambda: stats().get("duplicates", 0) > before), stats()
    assert len(desk_tickets(standins, ticket_id)) == 1

    # A support agent answers on the desk; Zendesk's webhook carries it back to the customer's conversation.
    standins.desks["demo"].agent_comment(ticket["id"], "Hi, Sam here: a replacement ships today.")
    stamp = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    payload = json.dumps({
        "id": str(uuid.uuid4()), "type": "zen:event-type:ticket.comment_added", "time": stamp,
        "subject": f"zen:ticket:{ticket['id']}", "detail": {"id": str(ticket["id"]), "status": "OPEN"},
        "event": {"comment": {"id": 1, "body": "Hi, Sam here: a replacement ships today.", "is_public": True,
                              "author": {"id": 235323, "is_staff": True, "name": "Sam"}}}}).encode()
    signature = base64.b64encode(hmac.new(ZENDESK_SECRET.encode(), stamp.encode() + payload, hashlib.sha256)
                                 .digest()).decode()
    delivered = httpx.post(f"{host.base}/api/webhooks/zendesk/demo", content=payload, timeout=10, headers={
        "X-Zendesk-Webhook-Signature": signature, "X-Zendesk-Webhook-Signature-Timestamp": stamp,
        "Content-Type": "application/json"})
    assert delivered.status_code == 202, delivered.text
    view = wait_for(lambda: (v := httpx.get(
        f"{host.base}/api/tenants/demo/conversations/{first['conversation_id']}", timeout=5,
        headers=token).json())["agent_messages"] and v)
    assert view["agent_messages"][0]["text"].startswith("Hi, Sam here")


@pytest.mark.parametrize("run", story.STORIES, ids=lambda s: s.__name__)
def test_order_actions_through_the_shopify_stand_in(host, run):
    run(story.Desk(host.base, "demo", KEY["x-functions-key"]))
