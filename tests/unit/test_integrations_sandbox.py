"""Sandbox integrations record outgoing tickets, emails and events per tenant; the factory picks adapters by
setting or tenant.json and resolves credentials from app settings named per tenant."""

from __future__ import annotations

import pytest

from core.config import load_settings
from core.integrations.__main__ import main as integrations_cli
from core.integrations.factory import build_integrations, secret
from core.integrations.imported_shop import ImportedShop
from core.integrations.ports import EmailMessage, IntegrationError, TicketRequest
from core.integrations.sandbox import SandboxAnalyticsSink, SandboxNotifier, SandboxTicketDesk, list_outbox
from core.integrations.shopify import ShopifyShopData
from core.integrations.zendesk import ZendeskTicketDesk
from core.stores.memory_store import MemoryDocumentStore


def test_sandboxes_record_per_tenant_and_tickets_are_idempotent():
    store = MemoryDocumentStore()
    desk, mail, ga = SandboxTicketDesk(store), SandboxNotifier(store), SandboxAnalyticsSink(store)
    ref = desk.create_ticket("demo", TicketRequest("s", "d", requester_email="a@b.c", external_id="T-1"))
    assert desk.create_ticket("demo", TicketRequest("s", "d", external_id="T-1")).id == ref.id
    desk.update_ticket("demo", ref.id, status="open", comment="on it", public=True)
    assert desk.list_comments("demo", ref.id)[0]["body"] == "on it"
    assert mail.send("demo", EmailMessage("a@b.c", "Back in stock", "Mango soap is back")).status == "sent"
    assert ga.track("demo", "cid", [{"name": "chat_turn"}]) == 1
    kinds = [r["kind"] for r in list_outbox(store, "demo")]
    assert sorted(kinds) == ["email", "event", "ticket"] and list_outbox(store, "northwind-tea") == []
    assert list_outbox(store, "demo", "ticket")[0]["status"] == "open"


def test_factory_defaults_to_sandboxes_and_tenant_overrides_pick_vendors():
    settings = load_settings()
    store = MemoryDocumentStore()
    local = build_integrations("demo", {}, settings, store)
    assert isinstance(local.shop, ImportedShop) and isinstance(local.tickets, SandboxTicketDesk)
    env = {"SHOPIFY_ADMIN_TOKEN_NORTHWIND_TEA": "shpat_x", "ZENDESK_API_TOKEN_NORTHWIND_TEA": "zd"}
    live = build_integrations("northwind-tea", {"shop_data": "shopify", "shopify_domain": "northwind.myshopify.com",
                                                "ticket_desk": "zendesk", "zendesk_subdomain": "northwind",
                                                "zendesk_email": "ops@example.com"}, settings, store, environ=env)
    assert isinstance(live.shop, ShopifyShopData) and isinstance(live.tickets, ZendeskTicketDesk)
    assert isinstance(live.notifier, SandboxNotifier)
    with pytest.raises(IntegrationError) as missing:
        build_integrations("demo", {"shop_data": "shopify", "shopify_domain": "demo.myshopify.com"}, settings, store,
                           environ={})
    assert "SHOPIFY_ADMIN_TOKEN_DEMO" in str(missing.value)


def test_secret_names_are_per_tenant():
    assert secret("X_{TENANT}", "northwind-tea", {"X_NORTHWIND_TEA": "v"}) == "v"


def test_outbox_command_lists_records(monkeypatch, capsys):
    import types

    import core.integrations.__main__ as cli

    store = MemoryDocumentStore()
    monkeypatch.setattr(cli, "get_services", lambda: types.SimpleNamespace(store=store))
    SandboxNotifier(store).send("demo", EmailMessage("a@b.c", "Hi", "Hello"))
    assert integrations_cli(["outbox", "demo", "--kind", "email"]) == 0
    out = capsys.readouterr().out
    assert '"kind": "email"' in out and '"subject": "Hi"' in out
