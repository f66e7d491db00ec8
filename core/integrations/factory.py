"""Integrations per tenant: sandbox by default, a vendor adapter when settings or the tenant's ``integrations``
block in tenant.json say so (the composition root, ``core.services``, calls ``build_integrations``). Credentials
are app settings whose *names* come from settings (``{TENANT}`` is the tenant id upper-cased, dashes as
underscores) — in Azure those app settings are Key Vault references."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.config import tenant_setting
from core.stores.ports import DocumentStore

from .ga4 import Ga4AnalyticsSink, Ga4Client
from .imported_actions import ImportedShopActions
from .imported_shop import ImportedShop
from .mailchimp import MailchimpNotifier, MandrillClient
from .ports import AnalyticsSink, IntegrationError, Notifier, ShopActions, ShopData, TicketDesk
from .sandbox import SandboxAnalyticsSink, SandboxNotifier, SandboxTicketDesk
from .shopify import ShopifyClient, ShopifyShopData
from .shopify_actions import ShopifyShopActions
from .zendesk import ZendeskClient, ZendeskTicketDesk


@dataclass
class Integrations:
    shop: ShopData
    tickets: TicketDesk
    notifier: Notifier
    analytics: AnalyticsSink
    actions: ShopActions  # writes on orders, through the same shop as ``shop``


def secret(name_template: str, tenant_id: str, environ: dict[str, str] | None = None) -> str:
    name, value = tenant_setting(name_template, tenant_id, environ)
    if not value:
        raise IntegrationError(f"credential setting {name} is not set for tenant {tenant_id}")
    return value


def _choice(tenant_cfg: dict[str, Any], key: str, default: str) -> str:
    return str(tenant_cfg.get(key) or default).lower()


def _need(tenant_cfg: dict[str, Any], key: str, tenant_id: str) -> str:
    value = tenant_cfg.get(key)
    if not value:
        raise IntegrationError(f"tenant {tenant_id}: tenant.json integrations.{key} is required")
    return str(value)


def build_integrations(tenant_id: str, tenant_cfg: dict[str, Any], settings: Any, store: DocumentStore, *,
                       environ: dict[str, str] | None = None, **client_kwargs: Any) -> Integrations:
    """``tenant_cfg`` is the tenant's ``integrations`` block (may be empty)."""
    kwargs = {"timeout": settings.INTEGRATION_TIMEOUT_SECONDS, "max_attempts": settings.INTEGRATION_MAX_ATTEMPTS,
              **client_kwargs}
    shop: ShopData = ImportedShop(store)
    actions: ShopActions = ImportedShopActions(store)
    if _choice(tenant_cfg, "shop_data", settings.SHOP_DATA) == "shopify":
        client = ShopifyClient(
            tenant_id, _need(tenant_cfg, "shopify_domain", tenant_id),
            secret(settings.SHOPIFY_TOKEN_SECRET_NAME, tenant_id, environ),
            api_version=settings.SHOPIFY_API_VERSION, url_template=settings.SHOPIFY_API_URL, **kwargs)
        shop = ShopifyShopData(client, catalog_ttl=settings.KNOWLEDGE_CACHE_TTL_SECONDS)
        actions = ShopifyShopActions(client, shop)
    tickets: TicketDesk = SandboxTicketDesk(store)
    if _choice(tenant_cfg, "ticket_desk", settings.TICKET_DESK) == "zendesk":
        tickets = ZendeskTicketDesk(ZendeskClient(
            tenant_id, _need(tenant_cfg, "zendesk_subdomain", tenant_id), _need(tenant_cfg, "zendesk_email", tenant_id),
            secret(settings.ZENDESK_TOKEN_SECRET_NAME, tenant_id, environ), url_template=settings.ZENDESK_API_URL,
            **kwargs))
    notifier: Notifier = SandboxNotifier(store)
    if _choice(tenant_cfg, "notifier", settings.NOTIFIER) == "mailchimp":
        notifier = MailchimpNotifier(MandrillClient(tenant_id, secret(settings.MANDRILL_KEY_SECRET_NAME, tenant_id,
                                                                      environ), **kwargs),
                                     _need(tenant_cfg, "from_email", tenant_id), tenant_cfg.get("from_name"))
    analytics: AnalyticsSink = SandboxAnalyticsSink(store)
    if _choice(tenant_cfg, "analytics", settings.ANALYTICS_TRACKER) == "ga4":
        analytics = Ga4AnalyticsSink(Ga4Client(tenant_id, _need(tenant_cfg, "ga4_measurement_id", tenant_id),
                                               secret(settings.GA4_API_SECRET_NAME, tenant_id, environ), **kwargs))
    return Integrations(shop=shop, tickets=tickets, notifier=notifier, analytics=analytics, actions=actions)
