"""A stand-in for the Shopify Admin REST API subset the Shopify adapter uses, serving a shop's exported files
(``products.json``, ``orders.json``, ``customers.json`` in the Admin API's own shapes).

Routes under ``/{shop_domain}/admin/api/{version}/``: ``orders.json`` (``status``, ``name``, ``email``, ``ids``),
``customers/{id}/orders.json``, ``products.json`` (``status``, ``ids``), ``products/{id}.json``, ``customers.json``
and ``inventory_levels.json`` (``inventory_item_ids``); the order writes of the order actions: ``orders/{id}.json``
(GET; PUT of ``shipping_address``, ``tags``, ``note_attributes``), ``orders/{id}/cancel.json`` (POST; 422 for a
fulfilled or cancelled order), ``orders/{id}/refunds.json`` (GET, POST) and ``orders/{id}/transactions.json``, which
change the served orders as Shopify would (``core.integrations.order_changes``). As Shopify does:
``X-Shopify-Access-Token`` is required (401 otherwise), ``limit`` caps at 250 (default 50), further pages are cursor
links in the ``Link`` header (``page_info``, which carries the filters), and each answer has
``X-Shopify-Shop-Api-Call-Limit``."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.integrations import order_changes
from core.integrations.ports import ActionRefused

BUCKET = 40


@dataclass
class Shop:
    """One shop the stand-in serves: its Admin token and its exported resources."""

    token: str
    products: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    customers: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_folder(cls, folder: str | Path, token: str) -> Shop:
        def read(name: str) -> list[dict[str, Any]]:
            path = Path(folder) / f"{name}.json"
            return json.loads(path.read_text(encoding="utf-8")).get(name) or [] if path.exists() else []

        return cls(token=token, products=read("products"), orders=read("orders"), customers=read("customers"))


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"errors": message}, status)


def _status_matches(order: dict[str, Any], status: str) -> bool:
    if status == "any":
        return True
    if status == "cancelled":
        return bool(order.get("cancelled_at"))
    if status == "closed":
        return bool(order.get("closed_at"))
    return not order.get("closed_at") and not order.get("cancelled_at")  # open (Shopify's default)


def _orders(shop: Shop, params: dict[str, str]) -> list[dict[str, Any]]:
    found = [o for o in shop.orders if _status_matches(o, params.get("status", "open"))]
    if params.get("name"):
        wanted = params["name"].lstrip("#")
        found = [o for o in found if str(o.get("name", "")).lstrip("#") == wanted]
    if params.get("email"):
        found = [o for o in found if str(o.get("email") or "").lower() == params["email"].lower()]
    if params.get("ids"):
        ids = set(params["ids"].split(","))
        found = [o for o in found if str(o.get("id")) in ids]
    return found


def _products(shop: Shop, params: dict[str, str]) -> list[dict[str, Any]]:
    found = shop.products
    if params.get("status"):
        statuses = set(params["status"].split(","))
        found = [p for p in found if (p.get("status") or "active") in statuses]
    if params.get("ids"):
        ids = set(params["ids"].split(","))
        found = [p for p in found if str(p.get("id")) in ids]
    return found


def _inventory_levels(shop: Shop, params: dict[str, str]) -> list[dict[str, Any]]:
    items = set((params.get("inventory_item_ids") or "").split(","))
    return [{"inventory_item_id": v.get("inventory_item_id"), "location_id": 1,
             "available": v.get("inventory_quantity"), "updated_at": p.get("updated_at")}
            for p in shop.products for v in p.get("variants") or [] if str(v.get("inventory_item_id")) in items]


def _transactions(order: dict[str, Any]) -> list[dict[str, Any]]:
    """The order's payment: one sale of its total when it was paid (the exports carry no transactions)."""
    if order.get("financial_status") not in ("paid", "partially_refunded", "refunded", "partially_paid"):
        return []
    gateway = (order.get("payment_gateway_names") or ["manual"])[0]
    return [{"id": int(order["id"]) * 10 + 1, "order_id": order["id"], "kind": "sale", "status": "success",
             "amount": order.get("total_price"), "currency": order.get("currency"), "gateway": gateway}]


def _page(request: Request, key: str, items: list[dict[str, Any]], params: dict[str, str]) -> JSONResponse:
    try:
        limit = min(max(int(params.get("limit", "50")), 1), 250)
        offset = int(params.get("_offset", "0"))
    except ValueError:
        return _error(400, "limit must be an integer")
    chunk = items[offset:offset + limit]
    headers = {"X-Shopify-Shop-Api-Call-Limit": f"1/{BUCKET}"}
    if offset + limit < len(items):
        cursor = base64.urlsafe_b64encode(json.dumps({**params, "_offset": str(offset + limit)}).encode()).decode()
        url = request.url.remove_query_params(list(request.query_params)).include_query_params(
            limit=limit, page_info=cursor)
        headers["Link"] = f'<{url}>; rel="next"'
    return JSONResponse({key: chunk}, headers=headers)


def _params(request: Request) -> dict[str, str] | None:
    params = dict(request.query_params)
    if "page_info" in params:  # as Shopify: a cursor carries the filters; only limit may change
        try:
            saved = json.loads(base64.urlsafe_b64decode(params.pop("page_info")))
        except ValueError:
            return None
        params = {**saved, **({"limit": params["limit"]} if "limit" in params else {})}
    return params


def app(shops: dict[str, Shop]) -> Starlette:
    """The stand-in for the shops in ``shops`` (keyed by their ``<shop>.myshopify.com`` domain)."""

    def shop_of(request: Request) -> Shop | JSONResponse:
        shop = shops.get(request.path_params["domain"])
        if shop is None:
            return _error(404, "Not Found")
        if request.headers.get("x-shopify-access-token") != shop.token:
            return _error(401, "[API] Invalid API key or access token (unrecognized login or wrong password)")
        return shop

    def listing(key: str, select):
        async def endpoint(request: Request) -> JSONResponse:
            shop = shop_of(request)
            if isinstance(shop, JSONResponse):
                return shop
            params = _params(request)
            if params is None:
                return _error(400, "Invalid page_info")
            return _page(request, key, select(shop, params, request), params)

        return endpoint

    async def product(request: Request) -> JSONResponse:
        shop = shop_of(request)
        if isinstance(shop, JSONResponse):
            return shop
        found = [p for p in shop.products if str(p.get("id")) == request.path_params["product_id"]]
        return JSONResponse({"product": found[0]}) if found else _error(404, "Not Found")

    def customer_orders(shop: Shop, params: dict[str, str], request: Request) -> list[dict[str, Any]]:
        customer_id = request.path_params["customer_id"]
        return [o for o in _orders(shop, params) if str((o.get("customer") or {}).get("id")) == customer_id]

    def one_order(request: Request) -> tuple[Shop, dict[str, Any]] | JSONResponse:
        shop = shop_of(request)
        if isinstance(shop, JSONResponse):
            return shop
        found = [o for o in shop.orders if str(o.get("id")) == request.path_params["order_id"]]
        return (shop, found[0]) if found else _error(404, "Not Found")

    async def json_body(request: Request) -> dict[str, Any] | JSONResponse:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return _error(400, "body is not JSON")
        return body if isinstance(body, dict) else _error(400, "body must be an object")

    def replace(shop: Shop, order: dict[str, Any], changed: dict[str, Any]) -> dict[str, Any]:
        changed["updated_at"] = order_changes.now_iso()
        shop.orders[shop.orders.index(order)] = changed
        return changed

    async def order(request: Request) -> JSONResponse:
        found = one_order(request)
        if isinstance(found, JSONResponse):
            return found
        shop, current = found
        if request.method == "GET":
            return JSONResponse({"order": current})
        body = await json_body(request)
        if isinstance(body, JSONResponse):
            return body
        fields = body.get("order") if isinstance(body.get("order"), dict) else {}
        changed = json.loads(json.dumps(current))
        if isinstance(fields.get("shipping_address"), dict):
            changed["shipping_address"] = {**(changed.get("shipping_address") or {}), **fields["shipping_address"]}
        if isinstance(fields.get("tags"), str):
            changed["tags"] = fields["tags"]
        if isinstance(fields.get("note_attributes"), list):
            changed["note_attributes"] = fields["note_attributes"]
        return JSONResponse({"order": replace(shop, current, changed)})

    async def cancel(request: Request) -> JSONResponse:
        found = one_order(request)
        if isinstance(found, JSONResponse):
            return found
        shop, current = found
        body = await json_body(request)
        if isinstance(body, JSONResponse):
            return body
        try:
            changed = order_changes.cancelled(json.loads(json.dumps(current)), str(body.get("reason") or "other"))
        except ActionRefused as exc:
            return JSONResponse({"errors": {"base": [str(exc)]}}, 422)
        return JSONResponse({"order": replace(shop, current, changed)})

    async def refunds(request: Request) -> JSONResponse:
        found = one_order(request)
        if isinstance(found, JSONResponse):
            return found
        shop, current = found
        if request.method == "GET":
            return JSONResponse({"refunds": current.get("refunds") or []})
        body = await json_body(request)
        if isinstance(body, JSONResponse):
            return body
        refund = body.get("refund") if isinstance(body.get("refund"), dict) else {}
        parents = {t["id"] for t in _transactions(current)}
        lines = [t for t in refund.get("transactions") or [] if isinstance(t, dict)]
        if not lines or any(t.get("parent_id") not in parents for t in lines):
            return JSONResponse({"errors": {"parent_id": ["must be a transaction of the order"]}}, 422)
        try:
            amount = sum(order_changes.Decimal(str(t.get("amount") or 0)) for t in lines)
            changed = order_changes.with_refund(json.loads(json.dumps(current)), amount,
                                                str(refund.get("note") or ""))
        except (ActionRefused, ArithmeticError) as exc:
            return JSONResponse({"errors": {"base": [str(exc)]}}, 422)
        replace(shop, current, changed)
        return JSONResponse({"refund": changed["refunds"][-1]}, 201)

    async def transactions(request: Request) -> JSONResponse:
        found = one_order(request)
        if isinstance(found, JSONResponse):
            return found
        return JSONResponse({"transactions": _transactions(found[1])})

    base = "/{domain}/admin/api/{version}"
    return Starlette(routes=[
        Route(f"{base}/orders.json", listing("orders", lambda shop, params, _: _orders(shop, params))),
        Route(f"{base}/orders/{{order_id}}.json", order, methods=["GET", "PUT"]),
        Route(f"{base}/orders/{{order_id}}/cancel.json", cancel, methods=["POST"]),
        Route(f"{base}/orders/{{order_id}}/refunds.json", refunds, methods=["GET", "POST"]),
        Route(f"{base}/orders/{{order_id}}/transactions.json", transactions),
        Route(f"{base}/customers/{{customer_id}}/orders.json", listing("orders", customer_orders)),
        Route(f"{base}/products.json", listing("products", lambda shop, params, _: _products(shop, params))),
        Route(f"{base}/products/{{product_id}}.json", product),
        Route(f"{base}/customers.json", listing("customers", lambda shop, params, _: shop.customers)),
        Route(f"{base}/inventory_levels.json",
              listing("inventory_levels", lambda shop, params, _: _inventory_levels(shop, params))),
    ])
