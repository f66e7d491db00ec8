"""The production Shopify and Zendesk adapters against the local stand-ins: same httpx client, auth, pagination and
idempotent ticket creation as against the vendors."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from core.devhost.standins.serve import StandIns
from core.integrations.ports import IntegrationError, TicketRequest
from core.integrations.shopify import ShopifyClient, ShopifyShopData
from core.integrations.zendesk import ZendeskClient, ZendeskTicketDesk
from core.models import CustomerRef

REPO = Path(__file__).resolve().parents[2]
SHOPS = {"demo": REPO / "knowledge/tenants/demo", "northwind-tea": REPO / "tests/fixtures/tenants/northwind-tea"}


@pytest.fixture(scope="module")
def standins():
    with StandIns(SHOPS) as running:
        yield running


def _shop(standins, tenant="demo", token=None):
    settings = standins.settings()
    client = ShopifyClient(tenant, f"{tenant}.myshopify.com", token or f"local-shopify-token-{tenant}",
                           url_template=settings["SHOPIFY_API_URL"], max_attempts=1)
    return ShopifyShopData(client)


def _desk(standins, tenant="demo"):
    settings = standins.settings()
    return ZendeskTicketDesk(ZendeskClient(tenant, tenant, f"support@{tenant}.example", f"local-zendesk-token-{tenant}",
                                           url_template=settings["ZENDESK_API_URL"], max_attempts=1))


def test_orders_and_products_come_from_the_shops_own_files(standins):
    shop = _shop(standins)
    order = shop.find_order("demo", "#1001")
    assert order["name"] == "#1001" and order["email"] == "marie-eve.gagnon@example.com"
    assert shop.find_order("demo", "999999") is None
    mine = shop.orders_for("demo", CustomerRef(email="marie-eve.gagnon@example.com"))
    assert mine and all(o["email"] == "marie-eve.gagnon@example.com" for o in mine)
    [(soap, _), *_] = shop.match_products("demo", "Is the organic mango soap in stock?")
    assert "Mango" in soap["title"] and shop.get_product("demo", str(soap["id"]))["id"] == soap["id"]
    assert shop.get_product("demo", "1") is None
    # Another shop's order numbers are not this shop's.
    assert _shop(standins, "northwind-tea").find_order("northwind-tea", "#1001") is None


def test_pages_follow_the_link_header_until_the_last(standins):
    shop = _shop(standins)
    every = shop.client.paginate("products.json", "products", params={"limit": 2})
    assert len(every) == len(standins.shops["demo.myshopify.com"].products) > 2
    assert len({p["id"] for p in every}) == len(every)


def test_a_wrong_token_is_refused(standins):
    with pytest.raises(IntegrationError) as refused:
        _shop(standins, token="shpat_wrong").find_order("demo", "1001")
    assert refused.value.status == 401


def test_a_ticket_is_created_once_per_external_id_and_its_comments_page(standins):
    desk = _desk(standins)
    request = TicketRequest(subject="[demo] complaint (T-ABC)", description="user: my soap melted",
                            requester_email="client@example.com", priority="high", tags=["shopdesk"],
                            external_id="T-STANDIN-1")
    first = desk.create_ticket("demo", request)
    again = desk.create_ticket("demo", request)
    assert first.id == again.id and first.status == "new"
    tickets = standins.desks["demo"].tickets
    assert [t["external_id"] for t in tickets.values()].count("T-STANDIN-1") == 1
    assert standins.desks["northwind-tea"].tickets == {} or all(
        t["external_id"] != "T-STANDIN-1" for t in standins.desks["northwind-tea"].tickets.values())
    for n in range(3):
        desk.update_ticket("demo", first.id, comment=f"note {n}", status="pending")
    comments = desk.client.paginate(f"tickets/{first.id}/comments.json", "comments", params={"page[size]": 2},
                                    next_url=lambda r, d: d["links"]["next"] if d["meta"]["has_more"] else None)
    assert [c["body"] for c in comments] == ["user: my soap melted", "note 0", "note 1", "note 2"]
    assert desk.list_comments("demo", first.id)[-1]["body"] == "note 2"


def test_the_desk_refuses_a_wrong_token_and_a_bad_body(standins):
    url = standins.settings()["ZENDESK_API_URL"].format(subdomain="demo")
    assert httpx.get(f"{url}tickets.json", auth=("support@demo.example/token", "nope")).status_code == 401
    bad = httpx.post(f"{url}tickets.json", json={"subject": "no ticket wrapper"},
                     auth=("support@demo.example/token", "local-zendesk-token-demo"))
    assert bad.status_code == 422 and bad.json()["error"] == "RecordInvalid"


def test_plain_http_is_only_for_loopback():
    with pytest.raises(ValueError):
        ShopifyClient("demo", "demo.myshopify.com", "t", url_template="http://example.com/{domain}/{version}/")
    with pytest.raises(ValueError):
        ZendeskClient("demo", "demo", "a@b.c", "t", url_template="http://10.0.0.5/{subdomain}/")
