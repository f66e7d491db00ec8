"""``ShopActions`` on the Shopify Admin REST API.

- cancel: ``POST orders/{id}/cancel.json`` (``reason``, ``email``, ``restock``);
- shipping address, returns and exchanges: ``PUT orders/{id}.json`` (``shipping_address``; ``tags`` and
  ``note_attributes``, as ``core.integrations.order_changes`` records a return);
- refund: ``GET orders/{id}/transactions.json`` for the captured payment, then ``POST orders/{id}/refunds.json`` with
  a refund transaction whose parent is that payment; the refund's ``note`` carries the action id, and the order's
  refunds are read first, so a repeated action does not refund twice;
- changed items: Shopify edits orders through GraphQL order editing only, so the REST adapter hands them to a
  person at the shop (``ActionUnsupported``).

A repeated cancellation finds the order cancelled and changes nothing.
"""

from __future__ import annotations

from typing import Any

from . import order_changes
from .ports import ActionRefused, ActionUnsupported, IntegrationError
from .shopify import ShopifyClient, ShopifyShopData


class ShopifyShopActions:
    def __init__(self, client: ShopifyClient, reader: ShopifyShopData):
        self.client, self.reader = client, reader

    def _order(self, tenant_id: str, number: str) -> dict[str, Any]:
        order = self.reader.find_order(tenant_id, number)
        if order is None:
            raise ActionRefused("no such order", status=404)
        return order

    def _fresh(self, order_id: Any) -> dict[str, Any]:
        return self.client.request("GET", f"orders/{int(order_id)}.json").json()["order"]

    def _write(self, method: str, path: str, body: dict[str, Any]) -> Any:
        try:
            return self.client.request(method, path, json=body).json()
        except IntegrationError as exc:
            if exc.status == 422:
                raise ActionRefused(str(exc), status=422) from None
            raise

    def cancel_order(self, tenant_id: str, number: str, *, reason: str, action_id: str) -> dict[str, Any]:
        order = self._order(tenant_id, number)
        if order.get("cancelled_at"):
            return order
        if order.get("fulfillment_status") in order_changes.SHIPPED:
            raise ActionRefused("the order has been fulfilled", status=422)
        self._write("POST", f"orders/{int(order['id'])}/cancel.json",
                    {"reason": reason, "email": True, "restock": True})
        return self._fresh(order["id"])

    def change_shipping_address(self, tenant_id: str, number: str, address: dict[str, Any], *,
                                action_id: str) -> dict[str, Any]:
        order = self._order(tenant_id, number)
        if order.get("cancelled_at") or order.get("fulfillment_status") in order_changes.SHIPPED:
            raise ActionRefused("the order can no longer be changed", status=422)
        fields = {k: v for k, v in address.items() if k in order_changes.ADDRESS_FIELDS and v is not None}
        return self._write("PUT", f"orders/{int(order['id'])}.json",
                           {"order": {"id": order["id"], "shipping_address": fields}})["order"]

    def change_items(self, tenant_id: str, number: str, changes: list[dict[str, Any]], *,
                     action_id: str) -> dict[str, Any]:
        raise ActionUnsupported("Shopify edits order items through GraphQL order editing only")

    def record_return(self, tenant_id: str, number: str, request: dict[str, Any], *,
                      action_id: str) -> dict[str, Any]:
        order = self._order(tenant_id, number)
        if any(r["id"] == request["id"] for r in order_changes.returns_of(order)):
            return order
        changed = order_changes.with_return(dict(order), request)
        return self._write("PUT", f"orders/{int(order['id'])}.json", {"order": {
            "id": order["id"], "tags": changed["tags"], "note_attributes": changed["note_attributes"]}})["order"]

    def refund(self, tenant_id: str, number: str, amount: str, *, currency: str, note: str,
               action_id: str) -> dict[str, Any]:
        order = self._order(tenant_id, number)
        order_id = int(order["id"])
        refunds = self.client.request("GET", f"orders/{order_id}/refunds.json").json().get("refunds") or []
        if any(action_id in str(r.get("note") or "") for r in refunds):
            return order
        transactions = self.client.request("GET", f"orders/{order_id}/transactions.json").json()
        paid = [t for t in transactions.get("transactions") or []
                if t.get("kind") in ("sale", "capture") and t.get("status") == "success"]
        if not paid:
            raise ActionRefused("the order has no captured payment to refund", status=422)
        self._write("POST", f"orders/{order_id}/refunds.json", {"refund": {
            "currency": currency, "notify": True, "note": f"{note} [{action_id}]",
            "transactions": [{"parent_id": paid[-1]["id"], "amount": amount, "kind": "refund",
                              "gateway": paid[-1].get("gateway")}]}})
        return self._fresh(order_id)
