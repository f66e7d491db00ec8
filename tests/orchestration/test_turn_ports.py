"""The chat turn uses the shop reader the composition root hands it (``Services.turn_ports``, from the tenant's
configured integrations), and its escalation tickets reach the tenant's configured desk through the hand-off queue
and the event bus: another adapter (Shopify, Zendesk) is all it takes to change what a chat reads and where its
tickets go."""

from __future__ import annotations

import dataclasses
import inspect

from core import desk_outbox
from core.events import handlers
from core.integrations.imported_shop import ImportedShop
from core.integrations.ports import ShopData, TicketRef
from core.integrations.shopify import ShopifyShopData
from core.models import HandoffJob
from tests.orchestration.test_conversation_turn import run


class RecordingShop:
    """A shop reader that answers from the imported exports and notes every question the turn asks it."""

    def __init__(self, inner: ImportedShop):
        self.inner, self.calls = inner, []

    def __getattr__(self, name):
        method = getattr(self.inner, name)

        def call(tenant_id, *args, **kwargs):
            self.calls.append((name, tenant_id))
            return method(tenant_id, *args, **kwargs)

        return call


class RecordingDesk:
    def __init__(self):
        self.tickets = []

    def create_ticket(self, tenant_id, ticket):
        self.tickets.append((tenant_id, ticket))
        return TicketRef(id=f"ZD-{len(self.tickets)}", status="new")


def _use(services, monkeypatch, shop=None, desk=None):
    """The tenant's integrations, with the shop reader and/or the desk replaced."""
    real = services.integrations_for

    def integrations_for(tenant_id):
        found = real(tenant_id)
        return dataclasses.replace(found, shop=shop or found.shop, tickets=desk or found.tickets)

    monkeypatch.setattr(services, "integrations_for", integrations_for)


async def test_the_turn_reads_orders_and_products_from_the_tenants_shop_reader(services, functions, tmp_path,
                                                                              monkeypatch):
    shop = RecordingShop(ImportedShop(services.store))
    _use(services, monkeypatch, shop=shop)
    status, _, _ = await run(functions, tmp_path, "Is the organic mango soap in stock? And where is order #1001?")
    assert status["runtimeStatus"] == "Completed", status
    asked = {name for name, _ in shop.calls}
    assert {"match_products", "find_order"} <= asked
    assert {tenant for _, tenant in shop.calls} == {"demo"}


def test_the_shop_reader_is_the_one_the_tenant_configures(services, monkeypatch):
    monkeypatch.setenv("SHOPIFY_ADMIN_TOKEN_DEMO", "shpat_test")
    tenant = services.tenant("demo")
    assert isinstance(services.turn_ports().shop_for("demo"), ImportedShop)
    monkeypatch.setattr(services, "tenant", lambda tenant_id: tenant.model_copy(update={"integrations": {
        "shop_data": "shopify", "shopify_domain": "demo-shop.myshopify.com"}}))
    shop = services.turn_ports().shop_for("demo")
    assert isinstance(shop, ShopifyShopData)
    assert str(shop.client._client.base_url) == "https://demo-shop.myshopify.com/admin/api/2025-07/"
    assert services.turn_ports().shop_for("demo") is shop  # one client per tenant configuration


async def test_a_new_ticket_reaches_the_desk_once_through_the_hand_off_queue_and_the_bus(services, functions,
                                                                                       tmp_path, monkeypatch):
    desk = RecordingDesk()
    _use(services, monkeypatch, desk=desk)
    status, _, _ = await run(functions, tmp_path, "I want to speak to a human, this is ridiculous")
    escalation = status["output"]["escalation"]
    assert escalation["escalated"] is True
    assert desk.tickets == []  # the turn itself never waits on the desk
    stored = services.store.get("demo", "tickets", "conv-test-0001").body
    assert stored["desk_sync"] == "pending"
    [message] = services.queue.messages[services.settings.ESCALATION_QUEUE_NAME]
    event = desk_outbox.opened_event(HandoffJob.model_validate_json(message))
    for _ in range(2):  # a second delivery of the same event (or a retried hand-off message) opens nothing new
        handlers.escalation_agent(event, services.handler_ports())
    [(tenant, ticket)] = desk.tickets
    assert tenant == "demo" and ticket.external_id == escalation["ticket_id"]
    stored = services.store.get("demo", "tickets", "conv-test-0001").body
    assert stored["desk_sync"] == "synced" and stored["external_id"] == "ZD-1"


def test_every_shop_reader_offers_what_the_turn_asks():
    wanted = {name: inspect.signature(member) for name, member in vars(ShopData).items()
              if inspect.isfunction(member) and not name.startswith("_")}
    assert {"find_order", "orders_for", "match_products", "get_product", "all_products"} <= set(wanted)
    for adapter in (ImportedShop, ShopifyShopData):
        for name, signature in wanted.items():
            offered = inspect.signature(getattr(adapter, name))
            assert list(offered.parameters)[:len(signature.parameters)] == list(signature.parameters), (adapter, name)
