"""``ShopActions`` on the tenant's imported orders: each action is one compare-and-set of the order document that
records the action id (``core.stores.transactions.change_order``), so it is atomic and never applied twice; items
added to an order reserve their stock first (``reserve_inventory``, idempotent per action and variant)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from core.stores import transactions
from core.stores.ports import DocumentStore

from . import order_changes
from .ports import ActionRefused


class ImportedShopActions:
    def __init__(self, store: DocumentStore):
        self._store = store

    def _change(self, tenant_id: str, number: str, action_id: str, mutate) -> dict[str, Any]:
        try:
            return transactions.change_order(self._store, tenant_id, re.sub(r"\D", "", number), action_id, mutate)
        except transactions.InvalidTransition as exc:
            raise ActionRefused(str(exc), status=422) from None
        except transactions.UnknownItem:
            raise ActionRefused("no such order", status=404) from None

    def cancel_order(self, tenant_id: str, number: str, *, reason: str, action_id: str) -> dict[str, Any]:
        return self._change(tenant_id, number, action_id, lambda o: order_changes.cancelled(o, reason))

    def change_shipping_address(self, tenant_id: str, number: str, address: dict[str, Any], *,
                                action_id: str) -> dict[str, Any]:
        return self._change(tenant_id, number, action_id,
                            lambda o: order_changes.with_shipping_address(o, address))

    def change_items(self, tenant_id: str, number: str, changes: list[dict[str, Any]], *,
                     action_id: str) -> dict[str, Any]:
        current = self._store.get(tenant_id, transactions.ORDERS, re.sub(r"\D", "", number))
        held = {str(li.get("variant_id")): int(li.get("quantity") or 0)
                for li in (current.body.get("line_items") if current else None) or []}
        for change in changes:
            more = int(change["quantity"]) - held.get(str(change["variant_id"]), 0)
            if more > 0:
                try:
                    transactions.reserve_inventory(self._store, tenant_id, str(change["variant_id"]), more,
                                                   f"{action_id}-{change['variant_id']}")
                except transactions.OutOfStock as exc:
                    raise ActionRefused(f"only {exc.available} left", status=422) from None
                except transactions.UnknownItem:
                    raise ActionRefused("no such product variant", status=422) from None
        return self._change(tenant_id, number, action_id, lambda o: order_changes.with_items_changed(o, changes))

    def record_return(self, tenant_id: str, number: str, request: dict[str, Any], *,
                      action_id: str) -> dict[str, Any]:
        return self._change(tenant_id, number, action_id, lambda o: order_changes.with_return(o, request))

    def refund(self, tenant_id: str, number: str, amount: str, *, currency: str, note: str,
               action_id: str) -> dict[str, Any]:
        return self._change(tenant_id, number, action_id,
                            lambda o: order_changes.with_refund(o, Decimal(amount), f"{note} [{action_id}]"))
