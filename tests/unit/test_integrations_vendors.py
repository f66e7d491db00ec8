"""Vendor adapters against responses in each vendor's wire format, served by respx at the real URLs.

Fixtures (tests/fixtures/recorded/<vendor>/) are built from the tenant fixtures and the vendors' reference
examples; no live vendor was called. What is checked: paths, auth, pagination, rate-limit headers, retries,
and that no credential reaches a log line.
"""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

import httpx
import pytest
import respx

from core.integrations.ga4 import Ga4AnalyticsSink, Ga4Client
from core.integrations.mailchimp import MailchimpNotifier, MandrillClient
from core.integrations.ports import EmailMessage, IntegrationError, TicketRequest
from core.integrations.shopify import ShopifyClient, ShopifyShopData
from core.integrations.zendesk import ZendeskClient, ZendeskTicketDesk
from core.models import CustomerRef

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "recorded"
SHOP = "https://northwind-leaf.myshopify.com/admin/api/2025-07"
ZD = "https://northwind.zendesk.com/api/v2"
TOKEN = "shpat_0123456789abcdef0123456789abcdef"


def rec(path: str):
    return json.loads((RECORDED / path).read_text())


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
def shopify(sleeps):
    return ShopifyShopData(ShopifyClient("northwind-tea", "northwind-leaf.myshopify.com", TOKEN, sleep=sleeps))


# Shopify --------------------------------------------------------------------------------------------------------
@respx.mock
def test_shopify_orders_follow_link_header_cursor_pagination(shopify):
    page2 = f"{SHOP}/orders.json?limit=250&page_info=eyJsYXN0X2lkIjo1NTkwMjgyNTkxNjg0fQ"
    first = respx.get(f"{SHOP}/orders.json", params={"status": "any", "limit": "250"}).mock(
        return_value=httpx.Response(200, json=rec("shopify/orders_page1.json"),
                                    headers={"Link": f'<{page2}>; rel="next"',
                                             "X-Shopify-Shop-Api-Call-Limit": "1/40"}))
    second = respx.get(page2).mock(return_value=httpx.Response(
        200, json=rec("shopify/orders_page2.json"),
        headers={"Link": f'<{SHOP}/orders.json?page_info=abc>; rel="previous"',
                 "X-Shopify-Shop-Api-Call-Limit": "2/40"}))
    orders = shopify.list_orders()
    assert [o["order_number"] for o in orders] == [o["order_number"] for o in
                                                   rec("shopify/orders_page1.json")["orders"] +
                                                   rec("shopify/orders_page2.json")["orders"]]
    assert first.called and second.called
    assert first.calls[0].request.headers["X-Shopify-Access-Token"] == TOKEN


@respx.mock
def test_shopify_find_order_and_ownership(shopify):
    route = respx.get(f"{SHOP}/orders.json", params={"name": "#5001", "status": "any"}).mock(
        return_value=httpx.Response(200, json=rec("shopify/order_5001.json")))
    order = shopify.find_order("northwind-tea", "#5001")
    assert order["order_number"] == 5001 and route.called
    respx.get(f"{SHOP}/orders.json", params={"email": "grace.liu@example.com"}).mock(
        return_value=httpx.Response(200, json=rec("shopify/orders_page1.json")))
    mine = shopify.orders_for("northwind-tea", CustomerRef(email="grace.liu@example.com"))
    assert mine and all(o["email"] == "grace.liu@example.com" for o in mine)  # search results re-checked


@respx.mock
def test_shopify_call_limit_bucket_slows_down_before_a_429(shopify, sleeps):
    respx.get(f"{SHOP}/products/7710946981029.json").mock(return_value=httpx.Response(
        200, json={"product": rec("shopify/products.json")["products"][0]},
        headers={"X-Shopify-Shop-Api-Call-Limit": "38/40"}))
    assert shopify.get_product("northwind-tea", "7710946981029")["handle"] == "darjeeling-first-flush-2026"
    assert sleeps == [pytest.approx((38 - 32) / 2)]  # 6 calls over 80 % headroom at 2 calls/s


@respx.mock
def test_shopify_429_retry_after_is_honoured(shopify, sleeps):
    route = respx.get(f"{SHOP}/inventory_levels.json").mock(side_effect=[
        httpx.Response(429, json=rec("shopify/throttled.json"), headers={"Retry-After": "2.0"}),
        httpx.Response(200, json=rec("shopify/inventory_levels.json")),
    ])
    levels = shopify.inventory_levels([45208896835268], [68034543812])
    assert levels[0]["available"] == 14 and route.call_count == 2 and sleeps == [2.0]
    params = route.calls[0].request.url.params
    assert params["inventory_item_ids"] == "45208896835268" and params["location_ids"] == "68034543812"


@respx.mock
def test_shopify_missing_product_is_none_and_auth_errors_raise(shopify, sleeps):
    respx.get(f"{SHOP}/products/1.json").mock(return_value=httpx.Response(404, json={"errors": "Not Found"}))
    assert shopify.get_product("northwind-tea", "1") is None
    respx.get(f"{SHOP}/customers.json").mock(return_value=httpx.Response(
        401, json={"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}))
    with pytest.raises(IntegrationError) as failed:
        shopify.list_customers()
    assert failed.value.status == 401 and TOKEN not in str(failed.value) and sleeps == []


@respx.mock
def test_shopify_catalogue_matching_uses_the_shared_ranker(shopify):
    route = respx.get(f"{SHOP}/products.json").mock(return_value=httpx.Response(200, json=rec("shopify/products.json")))
    top = shopify.match_products("northwind-tea", "Do you have the Kagoshima sencha?")
    assert top and top[0][0]["title"] == "Kagoshima Sencha"
    shopify.match_products("northwind-tea", "darjeeling")
    assert route.call_count == 1  # catalogue cached for the knowledge agent's hour


def test_shopify_rejects_a_domain_that_is_not_a_shop():
    with pytest.raises(ValueError):
        ShopifyClient("t", "evil.example.com/admin", TOKEN)


# Zendesk --------------------------------------------------------------------------------------------------------
@pytest.fixture
def zendesk(sleeps):
    return ZendeskTicketDesk(ZendeskClient("northwind-tea", "northwind", "ops@northwindleaf.ca", "zd-token-123",
                                           sleep=sleeps))


@respx.mock
def test_zendesk_create_ticket_with_token_auth_and_external_id(zendesk):
    lookup = respx.get(f"{ZD}/tickets.json", params={"external_id": "T-1A2B3C4D"}).mock(
        return_value=httpx.Response(200, json=rec("zendesk/tickets_by_external_id_empty.json")))
    create = respx.post(f"{ZD}/tickets.json").mock(
        return_value=httpx.Response(201, json=rec("zendesk/ticket_created.json")))
    ref = zendesk.create_ticket("northwind-tea", TicketRequest(
        subject="[northwind-tea] complaint (T-1A2B3C4D)", description="user: my tea arrived crushed",
        requester_email="grace.liu@example.com", requester_name="Grace Liu", priority="high",
        tags=["shopdesk", "complaint"], external_id="T-1A2B3C4D"))
    assert ref.id == "35436" and ref.status == "new" and lookup.called
    request = create.calls[0].request
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(
        b"ops@northwindleaf.ca/token:zd-token-123").decode()
    sent = json.loads(request.content)["ticket"]
    assert sent["external_id"] == "T-1A2B3C4D" and sent["requester"]["email"] == "grace.liu@example.com"
    assert sent["comment"] == {"body": "user: my tea arrived crushed", "public": False} and sent["priority"] == "high"


@respx.mock
def test_zendesk_retried_create_finds_the_existing_ticket(zendesk):
    respx.get(f"{ZD}/tickets.json", params={"external_id": "T-1A2B3C4D"}).mock(
        return_value=httpx.Response(200, json=rec("zendesk/tickets_by_external_id_found.json")))
    create = respx.post(f"{ZD}/tickets.json")
    assert zendesk.create_ticket("northwind-tea", TicketRequest("s", "d", external_id="T-1A2B3C4D")).id == "35436"
    assert not create.called


@respx.mock
def test_zendesk_update_and_429_retry_after(zendesk, sleeps):
    route = respx.put(f"{ZD}/tickets/35436.json").mock(side_effect=[
        httpx.Response(429, json=rec("zendesk/rate_limited.json"), headers={"Retry-After": "7"}),
        httpx.Response(200, json=rec("zendesk/ticket_updated.json")),
    ])
    ref = zendesk.update_ticket("northwind-tea", "35436", status="open", assignee_id="235323",
                                comment="Replacement shipped", public=True)
    assert ref.status == "open" and sleeps == [7.0] and route.call_count == 2
    assert json.loads(route.calls[1].request.content) == {"ticket": {
        "status": "open", "assignee_id": 235323, "comment": {"body": "Replacement shipped", "public": True}}}


@respx.mock
def test_zendesk_comments_follow_cursor_pagination(zendesk):
    page1 = respx.get(f"{ZD}/tickets/35436/comments.json", params={"page[size]": "100"}).mock(
        return_value=httpx.Response(200, json=rec("zendesk/comments_page1.json")))
    page2 = respx.get(rec("zendesk/comments_page1.json")["links"]["next"]).mock(
        return_value=httpx.Response(200, json=rec("zendesk/comments_page2.json")))
    comments = zendesk.list_comments("northwind-tea", "35436")
    assert [c["plain_body"] for c in comments][-1] == "Thank you!" and len(comments) == 3
    assert page1.called and page2.called


@respx.mock
def test_server_errors_give_up_after_max_attempts(sleeps):
    desk = ZendeskTicketDesk(ZendeskClient("t", "northwind", "a@b.c", "tok", max_attempts=3, sleep=sleeps))
    route = respx.get(f"{ZD}/tickets/1/comments.json").mock(return_value=httpx.Response(503))
    with pytest.raises(IntegrationError) as failed:
        desk.list_comments("t", "1")
    assert failed.value.status == 503 and route.call_count == 3 and len(sleeps) == 2 and sleeps[1] > sleeps[0]


# Mailchimp Transactional -----------------------------------------------------------------------------------------
@respx.mock
def test_mandrill_send_puts_the_key_in_the_body_and_never_in_logs(caplog):
    route = respx.post("https://mandrillapp.com/api/1.0/messages/send").mock(
        return_value=httpx.Response(200, json=rec("mailchimp/send_ok.json")))
    notifier = MailchimpNotifier(MandrillClient("northwind-tea", "md-SECRETKEY"), "support@northwindleaf.ca",
                                 "Northwind Leaf Co.")
    with caplog.at_level(logging.DEBUG, logger="shopdesk.integrations"):
        result = notifier.send("northwind-tea", EmailMessage("grace.liu@example.com", "Your order #5001 shipped",
                                                             "It is on its way.", to_name="Grace Liu",
                                                             tags=["shipment"]))
    assert result.status == "sent" and result.id == "abc123abc123abc123abc123abc123ab"
    body = json.loads(route.calls[0].request.content)
    assert body["key"] == "md-SECRETKEY" and body["message"]["to"] == [
        {"email": "grace.liu@example.com", "name": "Grace Liu", "type": "to"}]
    assert body["message"]["metadata"] == {"tenant": "northwind-tea"}
    assert "md-SECRETKEY" not in caplog.text and "grace.liu" not in caplog.text
    assert "tenant=northwind-tea" in caplog.text


@respx.mock
def test_mandrill_rejection_is_a_result_and_invalid_key_an_error():
    route = respx.post("https://mandrillapp.com/api/1.0/messages/send")
    route.mock(return_value=httpx.Response(200, json=rec("mailchimp/send_rejected.json")))
    notifier = MailchimpNotifier(MandrillClient("t", "bad"), "a@b.c")
    assert notifier.send("t", EmailMessage("bounced@example.com", "s", "t")).status == "rejected"
    route.mock(return_value=httpx.Response(500, json=rec("mailchimp/invalid_key.json")))
    notifier = MailchimpNotifier(MandrillClient("t", "bad", max_attempts=1), "a@b.c")
    with pytest.raises(IntegrationError):
        notifier.send("t", EmailMessage("x@example.com", "s", "t"))


# GA4 Measurement Protocol ------------------------------------------------------------------------------------------
@respx.mock
def test_ga4_collect_chunks_25_events_and_keeps_the_secret_out_of_logs(caplog):
    route = respx.post("https://www.google-analytics.com/mp/collect").mock(return_value=httpx.Response(204))
    sink = Ga4AnalyticsSink(Ga4Client("demo", "G-ABC123XYZ", "ga-SECRET"))
    events = [{"name": "chat_turn", "params": {"intent": "order_status", "engagement_time_msec": 1}}] * 30
    with caplog.at_level(logging.INFO, logger="shopdesk.integrations"):
        assert sink.track("demo", "555.1234", events + [{"name": "_bad"}]) == 30
    assert route.call_count == 2
    first = route.calls[0].request
    assert first.url.params["measurement_id"] == "G-ABC123XYZ" and first.url.params["api_secret"] == "ga-SECRET"
    assert len(json.loads(first.content)["events"]) == 25 and json.loads(first.content)["client_id"] == "555.1234"
    assert len(json.loads(route.calls[1].request.content)["events"]) == 5
    assert "ga-SECRET" not in caplog.text


@respx.mock
def test_ga4_debug_endpoint_returns_validation_messages():
    respx.post("https://www.google-analytics.com/debug/mp/collect").mock(
        return_value=httpx.Response(200, json=rec("ga4/debug_validation.json")))
    messages = Ga4AnalyticsSink(Ga4Client("demo", "G-1", "s")).validate("1.1", [{"name": "_badname"}])
    assert messages[0]["validationCode"] == "NAME_INVALID"
