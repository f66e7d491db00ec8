"""The five event flows end to end over HTTP on the local host (Azurite queues, Durable orchestrations): shipment
notice, back-in-stock notice, promotion, sync schedule, announcement; plus the Zendesk agent reply through the bus,
forged / stale / duplicated webhooks, and function-key enforcement."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.conftest import REPO
from tests.integration.hosting import HostProcess, answered, host_env, wait_for

KEY = "integration-function-key"
MASTER_KEY = {"x-functions-key": "integration-master-key"}
SECRETS = {"SHOPIFY_WEBHOOK_SECRET_DEMO": "shp-demo-secret", "SHOPIFY_WEBHOOK_SECRET_NORTHWIND_TEA": "shp-nw-secret",
           "ZENDESK_WEBHOOK_SECRET_DEMO": "zd-demo-secret"}


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    """A host on an Azurite of its own: the agent queues have fixed names (bicep declares them), and the session
    host would otherwise consume this host's events."""
    from core.devhost import azurite
    from tests.integration.hosting import free_port

    location = tmp_path_factory.mktemp("events-azurite")
    ports = (free_port(), free_port(), free_port())
    azurite.start(location, *ports)
    storage_connection = azurite.connection_string(*ports)
    data_dir = tmp_path_factory.mktemp("events-host")
    feed = data_dir / "feeds"
    feed.mkdir()
    env = host_env(storage_connection, data_dir, LOCAL_FUNCTION_KEY=KEY, LOCAL_MASTER_KEY=MASTER_KEY["x-functions-key"],
                   NEWS_FEED_URL=str(feed / "{tenant}.xml"),
                   SYNC_TICK_SCHEDULE="0 0 0 1 1 *", PROMOTIONS_SCHEDULE="0 0 0 1 1 *", **SECRETS)
    for tenant, folder in (("demo", REPO / "knowledge/tenants/demo"),
                           ("northwind-tea", REPO / "tests/fixtures/tenants/northwind-tea")):
        subprocess.run([sys.executable, "-m", "core.tenants", "import", tenant, str(folder)], cwd=REPO, env=env,
                       check=True, capture_output=True)
    process = HostProcess(env, REPO, "function_app", data_dir / "host.log")
    process.start()
    process.data_dir = data_dir
    process.feed_dir = feed
    yield process
    process.stop()
    azurite.stop(location)


@pytest.fixture(scope="module")
def store(host):
    from core.stores.sqlite_store import SqliteDocumentStore

    return SqliteDocumentStore(host.data_dir / "documents.sqlite")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def shopify(host, tenant: str, topic: str, payload: dict, *, secret: str | None = None, webhook_id: str | None = None,
            triggered_at: str | None = None) -> httpx.Response:
    body = json.dumps(payload).encode()
    key = secret or SECRETS[f"SHOPIFY_WEBHOOK_SECRET_{tenant.upper().replace('-', '_')}"]
    signature = base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()
    headers = {"X-Shopify-Hmac-Sha256": signature, "X-Shopify-Topic": topic, "Content-Type": "application/json",
               "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()), "X-Shopify-Triggered-At": triggered_at
               or _now(), "X-Shopify-Shop-Domain": f"{tenant}.myshopify.com"}
    return httpx.post(f"{host.base}/api/webhooks/shopify/{tenant}", content=body, headers=headers, timeout=10)


def zendesk(host, tenant: str, payload: dict, *, stamp: str | None = None) -> httpx.Response:
    body = json.dumps(payload).encode()
    stamp = stamp or _now()
    key = SECRETS[f"ZENDESK_WEBHOOK_SECRET_{tenant.upper()}"].encode()
    signature = base64.b64encode(hmac.new(key, stamp.encode() + body, hashlib.sha256).digest()).decode()
    return httpx.post(f"{host.base}/api/webhooks/zendesk/{tenant}", content=body, timeout=10, headers={
        "X-Zendesk-Webhook-Signature": signature, "X-Zendesk-Webhook-Signature-Timestamp": stamp,
        "Content-Type": "application/json"})


def op(host, method: str, path: str, **kwargs) -> httpx.Response:
    return httpx.request(method, f"{host.base}/api/operator/tenants/{path}", headers={"x-functions-key": KEY},
                         timeout=15, **kwargs)


def emails(store, tenant: str, to: str) -> list[dict]:
    from core.integrations.sandbox import list_outbox

    return [e for e in list_outbox(store, tenant, "email") if e["to_email"] == to]


def order(tenant_folder: str, number: int) -> dict:
    orders = json.loads((REPO / tenant_folder / "orders.json").read_text())["orders"]
    return next(o for o in orders if o["order_number"] == number)


def fulfilled(source: dict, tracking: str) -> dict:
    return {**source, "fulfillment_status": "fulfilled", "updated_at": _now(), "fulfillments": [{
        "id": 1, "status": "success", "tracking_company": "Canada Post", "tracking_number": tracking,
        "tracking_url": f"https://www.canadapost-postescanada.ca/track-reperage/en#/details/{tracking}"}]}


def test_story_1_41_shipment_notice_in_the_customers_language_once(host, store):
    source = order("knowledge/tenants/demo", 1040)  # a fr-CA customer, not yet shipped
    payload = fulfilled(source, "7023210039414604")
    webhook_id = str(uuid.uuid4())
    first = shopify(host, "demo", "orders/fulfilled", payload, webhook_id=webhook_id)
    assert first.status_code == 202, first.text
    assert first.json()["events"][0]["subject"] == "tenants/demo/orders/1040"
    again = shopify(host, "demo", "orders/fulfilled", payload, webhook_id=webhook_id)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    sent = wait_for(lambda: emails(store, "demo", source["email"]))
    assert "a été expédiée" in sent[0]["subject"] and "7023210039414604" in sent[0]["text"]
    assert "Bonjour" in sent[0]["text"]
    wait_for(lambda: (store.get("demo", "orders", "1040").body.get("shopdesk_shipment_notice")))
    # The same body under a new webhook id (a re-signed replay: the HMAC covers only the body) is the same event.
    replay = shopify(host, "demo", "orders/fulfilled", payload)
    assert replay.status_code == 200 and replay.json()["duplicate"] is True
    # A real second occurrence (the order changed again) is processed, and still sends one e-mail per order.
    later = (datetime.fromisoformat(payload["updated_at"].replace("Z", "+00:00")) + timedelta(seconds=5)).isoformat()
    assert shopify(host, "demo", "orders/fulfilled", {**payload, "updated_at": later}).status_code == 202
    time.sleep(2)
    assert len(emails(store, "demo", source["email"])) == 1


def test_story_1_41_second_tenant_english(host, store):
    source = order("tests/fixtures/tenants/northwind-tea", 5010)
    assert shopify(host, "northwind-tea", "orders/fulfilled", fulfilled(source, "LX123456789CA")).status_code == 202
    sent = wait_for(lambda: emails(store, "northwind-tea", source["email"]))
    assert "has shipped" in sent[0]["subject"] and "Northwind" in sent[0]["subject"]
    assert emails(store, "demo", source["email"]) == []


def test_story_2_23_back_in_stock_notice_then_unsubscribed(host, store):
    from core.events import waitlist

    chat = answered(host.base, httpx.post(f"{host.base}/api/tenants/demo/chat", timeout=30, json={
        "message": "Is the Charcoal & Tea Tree Soap in stock? Please tell me when it is back in stock, "
                   "my email is prospect.ana@example.com"})).json()
    assert "back in stock" in chat["reply"], chat["reply"]
    entries = waitlist.for_inventory_item(store, "demo", "48994618538544")
    assert [e["email"] for e in entries] == ["prospect.ana@example.com"]
    # Inventory changes that do not bring it back notify nobody.
    assert shopify(host, "demo", "inventory_levels/update",
                   {"inventory_item_id": 48994618538544, "location_id": 1, "available": 0,
                    "updated_at": _now()}).status_code == 202
    time.sleep(1.5)
    assert emails(store, "demo", "prospect.ana@example.com") == []
    assert shopify(host, "demo", "inventory_levels/update",
                   {"inventory_item_id": 48994618538544, "location_id": 1, "available": 12,
                    "updated_at": _now()}).status_code == 202
    sent = wait_for(lambda: emails(store, "demo", "prospect.ana@example.com"))
    assert "back in stock" in sent[0]["subject"] and "Charcoal" in sent[0]["subject"]
    wait_for(lambda: not waitlist.for_inventory_item(store, "demo", "48994618538544"))  # unsubscribed
    # The knowledge agent updates its copy from its own queue, independently of the response agent's e-mail.
    wait_for(lambda: store.get("demo", "products", "8931343543965").body["variants"][0]["inventory_quantity"] == 12)
    again = answered(host.base, httpx.post(f"{host.base}/api/tenants/demo/chat", timeout=30,
                       json={"message": "Is the Charcoal & Tea Tree Soap in stock?"})).json()
    assert "in stock" in again["reply"] and "out of stock" not in again["reply"]
    assert len(emails(store, "demo", "prospect.ana@example.com")) == 1


def test_story_7_20_promotion_window(host):
    start = datetime.now(UTC) - timedelta(seconds=5)
    created = op(host, "POST", "northwind-tea/promotions", json={
        "title": "Spring steep week", "description": "15% off every oolong", "code": "STEEP15",
        "discount_percent": 15, "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat()})
    assert created.status_code == 201, created.text
    promo_id = created.json()["id"]
    assert created.json()["status"] == "scheduled"
    assert httpx.post(f"{host.base}/admin/functions/promotions_tick", timeout=10, headers=MASTER_KEY).status_code == 202

    def active():
        listed = op(host, "GET", "northwind-tea/promotions").json()["promotions"]
        return next((p for p in listed if p["id"] == promo_id and p["status"] == "active"), None)

    wait_for(active)
    reply = answered(host.base, httpx.post(f"{host.base}/api/tenants/northwind-tea/chat", timeout=30,
                       json={"message": "Do you ship to Alberta?"})).json()["reply"]
    assert "Spring steep week" in reply and "STEEP15" in reply
    assert op(host, "DELETE", f"northwind-tea/promotions/{promo_id}").json()["status"] == "cancelled"
    later = answered(host.base, httpx.post(f"{host.base}/api/tenants/northwind-tea/chat", timeout=30,
                       json={"message": "Do you ship to Alberta?"})).json()["reply"]
    assert "Spring steep week" not in later
    assert op(host, "GET", "demo/promotions").json()["promotions"] == []  # another tenant sees nothing


def test_story_7_21_sync_schedule(host):
    bad = op(host, "PUT", "demo/sync-schedules", json={"products": "every five minutes"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "products"
    put = op(host, "PUT", "demo/sync-schedules", json={"products": "*/2 * * * * *"})
    assert put.status_code == 200 and put.json()["products"] == {"schedule": "*/2 * * * * *", "custom": True,
                                                                 "last_run": put.json()["products"]["last_run"]}
    time.sleep(2.1)
    assert httpx.post(f"{host.base}/admin/functions/sync_tick", timeout=10, headers=MASTER_KEY).status_code == 202

    def synced():
        stats = op(host, "GET", "demo/events/stats").json()["totals"]
        return stats.get("handled.knowledge", 0) and stats.get("published.scheduled.sync.products")

    wait_for(synced)
    view = op(host, "GET", "demo/sync-schedules").json()
    assert view["products"]["last_run"] > put.json()["products"]["last_run"]
    assert view["analytics"]["custom"] is False


def test_story_7_22_announcement_mentioned_once_in_the_customers_language(host):
    made = op(host, "POST", "demo/announcements", json={"text": {
        "en": "Our workshop is closed on Monday for inventory.",
        "fr": "Notre atelier sera fermé lundi pour l'inventaire."}})
    assert made.status_code == 201, made.text
    first = answered(host.base, httpx.post(f"{host.base}/api/tenants/demo/chat", timeout=30, json={
        "message": "Bonjour, quels sont vos délais de livraison au Québec?", "locale": "fr-CA"})).json()
    assert "Notre atelier sera fermé lundi" in first["reply"]
    second = answered(host.base, httpx.post(f"{host.base}/api/tenants/demo/chat", timeout=30, json={
        "message": "Et pour l'Ontario?", "conversation_id": first["conversation_id"], "locale": "fr-CA"},
        headers={"X-Conversation-Token": first["conversation_token"]})).json()
    assert "atelier sera fermé" not in second["reply"]
    other = answered(host.base, httpx.post(f"{host.base}/api/tenants/northwind-tea/chat", timeout=30,
                       json={"message": "What teas do you sell?"})).json()
    assert "workshop is closed" not in other["reply"]
    assert op(host, "DELETE", f"demo/announcements/{made.json()['id']}").status_code == 204


def test_zendesk_public_agent_comment_reaches_the_conversation_through_the_bus(host, store):
    chat = answered(host.base, httpx.post(f"{host.base}/api/tenants/demo/chat", timeout=30,
                      json={"message": "I want to talk to a human about a damaged parcel"})).json()
    ticket = chat["escalation"]["ticket_id"]
    assert ticket
    payload = {"id": str(uuid.uuid4()), "type": "zen:event-type:ticket.comment_added", "time": _now(),
               "subject": "zen:ticket:9001", "detail": {"id": "9001", "external_id": ticket, "status": "OPEN"},
               "event": {"comment": {"id": 1, "body": "Hi, Sam here: a replacement ships today.", "is_public": True,
                                     "author": {"id": 7, "is_staff": True, "name": "Sam"}}}}
    assert zendesk(host, "demo", payload).status_code == 202
    view = wait_for(lambda: (v := httpx.get(
        f"{host.base}/api/tenants/demo/conversations/{chat['conversation_id']}", timeout=5,
        headers={"X-Conversation-Token": chat["conversation_token"]}).json())["agent_messages"] and v)
    assert view["agent_messages"][0]["text"].startswith("Hi, Sam here")
    # The same Zendesk event delivered again has no second effect.
    assert zendesk(host, "demo", payload).json()["duplicate"] is True


def test_forged_stale_and_duplicated_webhooks(host, store):
    payload = {"id": 1, "email": "x@example.com", "updated_at": _now()}
    forged = shopify(host, "demo", "customers/create", payload, secret="not-the-secret")
    assert forged.status_code == 401 and forged.headers["content-type"] == "application/problem+json"
    stale = shopify(host, "demo", "customers/create", payload,
                    triggered_at=(datetime.now(UTC) - timedelta(hours=1)).isoformat())
    assert stale.status_code == 401
    other_tenant = shopify(host, "northwind-tea", "customers/create", payload, secret=SECRETS[
        "SHOPIFY_WEBHOOK_SECRET_DEMO"])
    assert other_tenant.status_code == 401  # one tenant's secret never signs for another
    zd_stale = zendesk(host, "demo", {"id": "e1", "type": "zen:event-type:ticket.created", "detail": {"id": "1"}},
                       stamp=(datetime.now(UTC) - timedelta(minutes=10)).isoformat())
    assert zd_stale.status_code == 401
    customer = {"id": 777000111, "email": "dup.customer@example.com", "first_name": "Dup", "updated_at": _now()}
    webhook_id = str(uuid.uuid4())
    codes = [shopify(host, "demo", "customers/create", customer, webhook_id=webhook_id).status_code for _ in range(3)]
    assert codes == [202, 200, 200]
    replayed = shopify(host, "demo", "customers/create", customer)  # same body, new webhook id, fresh timestamp
    assert replayed.status_code == 200 and replayed.json()["duplicate"] is True
    wait_for(lambda: store.get("demo", "customers", "777000111"))
    stats = op(host, "GET", "demo/events/stats").json()["totals"]
    assert stats.get("webhook_duplicates", 0) >= 3
    assert stats.get("published.shopify.customers.created") == 1


def test_operator_api_needs_a_function_key(host):
    assert httpx.get(f"{host.base}/api/operator/tenants/demo/events/stats", timeout=5).status_code == 401
    wrong = httpx.get(f"{host.base}/api/operator/tenants/demo/events/stats", headers={"x-functions-key": "nope"},
                      timeout=5)
    assert wrong.status_code == 401
    assert httpx.get(f"{host.base}/api/operator/tenants/demo/events/stats?code={KEY}", timeout=5).status_code == 200
    assert httpx.get(f"{host.base}/api/health", timeout=5).status_code == 200  # anonymous stays open
    assert op(host, "GET", "demo/dead-letters").json() == {"dead_letters": []}
