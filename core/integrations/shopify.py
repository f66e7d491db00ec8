"""Shopify Admin REST adapter (``ShopData``): orders, products, inventory levels, customers.

``https://{shop}.myshopify.com/admin/api/{version}/…json`` with ``X-Shopify-Access-Token``; cursor pagination via
the ``Link`` header (``page_info``); the ``X-Shopify-Shop-Api-Call-Limit`` leaky bucket (e.g. ``39/40``, refilling
2 calls/s) slows us down before Shopify answers 429; a 429's ``Retry-After`` is honoured by the retry policy.
"""

from __future__ import annotations

import re
import time
from typing import Any

import httpx

from core.models import CustomerRef

from .http import VendorClient, vendor_base_url
from .imported_shop import ProductTerms, catalog_idf, owns, product_terms, rank_products
from .ports import IntegrationError

LEAK_PER_SECOND = 2.0  # the standard plan's bucket refill rate


class ShopifyClient(VendorClient):
    def __init__(self, tenant_id: str, shop_domain: str, access_token: str, *, api_version: str = "2025-07",
                 bucket_headroom: float = 0.8, url_template: str = "https://{domain}/admin/api/{version}/",
                 **kwargs: Any):
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*\.myshopify\.com", shop_domain):
            raise ValueError("shop domain must look like <shop>.myshopify.com")
        super().__init__("shopify", tenant_id, vendor_base_url(url_template, domain=shop_domain, version=api_version),
                         headers={"X-Shopify-Access-Token": access_token, "Accept": "application/json"}, **kwargs)
        self.bucket_headroom = bucket_headroom

    def after_response(self, response: httpx.Response) -> None:
        used, _, size = response.headers.get("x-shopify-shop-api-call-limit", "").partition("/")
        if used.isdigit() and size.isdigit() and int(size) > 0:
            excess = int(used) - self.bucket_headroom * int(size)
            if excess > 0:
                self.sleep(excess / LEAK_PER_SECOND)


class ShopifyShopData:
    """``ShopData`` on the live Admin API; the catalogue is cached for ``catalog_ttl`` seconds (knowledge: 1 h)."""

    def __init__(self, client: ShopifyClient, *, catalog_ttl: float = 3600.0):
        self.client = client
        self._catalog: tuple[float, list[dict[str, Any]], dict[str, float], list[ProductTerms]] | None = None
        self._catalog_ttl = catalog_ttl

    # Raw resources ---------------------------------------------------------------------------------------------
    def list_orders(self, **params: Any) -> list[dict[str, Any]]:
        return self.client.paginate("orders.json", "orders", params={"status": "any", "limit": 250, **params})

    def list_products(self, **params: Any) -> list[dict[str, Any]]:
        return self.client.paginate("products.json", "products", params={"limit": 250, **params})

    def list_customers(self, **params: Any) -> list[dict[str, Any]]:
        return self.client.paginate("customers.json", "customers", params={"limit": 250, **params})

    def inventory_levels(self, inventory_item_ids: list[int | str],
                         location_ids: list[int | str] | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"inventory_item_ids": ",".join(str(i) for i in inventory_item_ids), "limit": 250}
        if location_ids:
            params["location_ids"] = ",".join(str(i) for i in location_ids)
        return self.client.paginate("inventory_levels.json", "inventory_levels", params=params)

    # ShopData -------------------------------------------------------------------------------------------------
    def find_order(self, tenant_id: str, number: str) -> dict[str, Any] | None:
        digits = re.sub(r"\D", "", number)
        if not digits:
            return None
        response = self.client.request("GET", "orders.json", params={"name": f"#{digits}", "status": "any"})
        orders = [o for o in response.json().get("orders") or [] if str(o.get("order_number")) == digits
                  or o.get("name") == f"#{digits}"]
        return orders[0] if orders else None

    def orders_for(self, tenant_id: str, customer: CustomerRef) -> list[dict[str, Any]]:
        if customer.id:
            orders = self.client.paginate(f"customers/{int(customer.id)}/orders.json", "orders",
                                          params={"status": "any", "limit": 250})
        elif customer.email:
            orders = self.list_orders(email=customer.email)
        else:
            return []
        mine = [o for o in orders if owns(o, customer)]  # the API filter is a search: verify ownership ourselves
        return sorted(mine, key=lambda o: o.get("created_at") or "", reverse=True)

    def _active_catalog(self) -> tuple[float, list[dict[str, Any]], dict[str, float], list[ProductTerms]]:
        now = time.monotonic()
        if self._catalog is None or now - self._catalog[0] > self._catalog_ttl:
            products = self.list_products(status="active")
            self._catalog = (now, products, catalog_idf(products), [product_terms(p) for p in products])
        return self._catalog

    def match_products(self, tenant_id: str, text: str, limit: int = 3, *, max_staleness: float = 0.0
                       ) -> list[tuple[dict[str, Any], float]]:
        """Ranked on the active catalogue, cached ``catalog_ttl`` seconds whatever the caller's budget."""
        _, products, idf, terms = self._active_catalog()
        return rank_products(products, idf, text, limit, terms=terms)

    def all_products(self, tenant_id: str) -> list[dict[str, Any]]:
        return self._active_catalog()[1]

    def get_product(self, tenant_id: str, product_id: str) -> dict[str, Any] | None:
        try:
            return self.client.request("GET", f"products/{int(product_id)}.json").json().get("product")
        except IntegrationError as exc:
            if exc.status == 404:
                return None
            raise
