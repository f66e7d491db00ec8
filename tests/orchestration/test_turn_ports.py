"""The chat turn uses the shop reader and the ticket desk the composition root hands it (``Services.turn_ports``):
another adapter there (Shopify, Zendesk) is all it takes to change what a chat reads and where its tickets go."""

from __future__ import annotations

import dataclasses
import inspect

from core.integrations.imported_shop import ImportedShop
from core.integrations.ports import ShopData, TicketRef
from core.integrations.shopify import ShopifyShopData
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


def _use(services, monkeypatch, shop, desk):
    ports = services.turn_ports()
    monkeypatch.setattr(services, "turn_ports", lambda: dataclasses.replace(
        ports, shop_for=lambda tenant_id: shop, desk_for=lambda tenant_id: desk))


async def test_the_turn_reads_orders_and_products_from_the_shop_reader_it_is_given(services, functions, tmp_path,
                                                                                   monkeypatch):
    shop = RecordingShop(ImportedShop(services.store))
    _use(services, monkeypatch, shop, None)
    status, _, _ = await run(functions, tmp_path, "Is the organic mango soap in stock? And where is order #1001?")
    assert status["runtimeStatus"] == "Completed", status
    asked = {name for name, _ in shop.calls}
    assert {"match_products", "find_order"} <= asked
    assert {tenant for _, tenant in shop.calls} == {"demo"}


async def test_a_new_ticket_goes_to_the_desk_it_is_given(services, functions, tmp_path, monkeypatch):
    desk = RecordingDesk()
    _use(services, monkeypatch, ImportedShop(services.store), desk)
    status, _, _ = await run(functions, tmp_path, "I want to speak to a human, this is ridiculous")
    escalation = status["output"]["escalation"]
    assert escalation["escalated"] is True
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
