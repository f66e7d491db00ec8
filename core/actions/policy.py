"""The one place that decides whether an order action may run, and runs it: every caller (the offline dialogue, a
model's function call) goes through ``ActionGuard``.

``propose`` checks the arguments against the tool's schema, that the customer proved they own the order (the shop
signed them in, or they gave the order's number and the e-mail on it in this conversation), that the conversation
acts for one customer only, and that the order's state allows the change on Shopify's status graphs; it returns the
proposal the reply lists. ``confirm`` runs a proposal only on the customer's explicit yes to it, re-checks all of
the above on the order as it is now (a changed order invalidates the proposal), writes through the shop's
``ShopActions`` once per action id (``ledger``), audits the action and publishes its CloudEvent. A refund above the
shop's ``refund_auto_approve_limit`` (asked for, or the one cancelling a paid order makes), or a change the shop's
API cannot make, becomes a request for a person's approval instead of a write.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from core import audit
from core.events.catalog import CloudEvent, new_event, stable_id
from core.integrations.ports import ActionRefused, ActionUnsupported, IntegrationError, ShopActions, ShopData
from core.models import CustomerRef
from core.stores.ports import DocumentStore
from core.tenants import TenantConfig
from core.text import fold

from . import ledger, orders, tools, words
from .exclusions import Item

log = logging.getLogger("shopdesk.actions")


class Refusal(Exception):
    """The action may not run. ``code`` says why (the reply's template), ``offer`` names an action that could help
    instead (a return for a shipped order)."""

    def __init__(self, code: str, number: str | None = None, *, offer: str | None = None, **details: Any):
        super().__init__(code)
        self.code, self.number, self.offer, self.details = code, number, offer, details


class Proposal(BaseModel):
    """A change listed to the customer and awaiting their yes (kept in the conversation as plain JSON)."""

    tool: str
    args: dict
    order_number: str
    proposal_id: str
    fingerprint: str
    owner: str
    approval: bool = False  # runs as a request for a person's approval (a refund above the limit, or the cancellation
    # of an order whose refund is)
    details: dict = {}


class ActionResult(BaseModel):
    tool: str
    order_number: str
    action_id: str
    status: str  # done | approval_requested
    details: dict = {}


@dataclass
class ActionContext:
    """Who is asking, in which conversation, and what they have already been offered."""

    tenant: TenantConfig
    conversation_id: str
    now: datetime
    verified: CustomerRef | None = None  # signed in by the shop
    emails: list[str] = field(default_factory=list)  # e-mail addresses the customer gave in this conversation
    owner: str | None = None  # the customer the conversation acts for, once one proved who they are
    pending: Proposal | None = None
    language: str = "en"  # the customer's: the returns page is read in it first


#: ``(tenant id, language, item) -> the clause of the shop's returns page that excludes the item, or None``.
ExclusionCheck = Callable[[str, str, Item], str | None]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class ActionGuard:
    def __init__(self, *, shop: ShopData, actions: ShopActions, store: DocumentStore, settings: Any,
                 publish: Callable[[list[CloudEvent]], None] | None = None,
                 exclusions: ExclusionCheck | None = None, cancel_rules: ExclusionCheck | None = None):
        self.shop, self.actions, self.store, self.settings, self.publish = shop, actions, store, settings, publish
        # What the shop's returns page says can't be returned ("personalised items, gift cards"), beside what the
        # item itself is marked with, and what its pages say of orders that can't be cancelled ("engraved orders,
        # after 24 hours") (``core.actions.exclusions``).
        self.exclusions, self.cancel_rules = exclusions, cancel_rules

    # Who -------------------------------------------------------------------------------------------------------
    def authenticate(self, ctx: ActionContext, number: str, tool: str = "") -> tuple[dict[str, Any], str]:
        """The order and the owner key the customer proved; ``Refusal`` otherwise (the same refusal whether the
        order exists or not, once some proof was given, so nobody learns which numbers exist). An attempt on an
        order that is not the asker's is audited."""
        try:
            return self._authenticate(ctx, number)
        except Refusal as refusal:
            if refusal.code in ("not_owner", "other_customer"):
                audit.record(self.store, self.settings, ctx.tenant, actor_kind="customer",
                             actor_id=ctx.owner or (ctx.emails or [f"conversation:{ctx.conversation_id}"])[0],
                             action=f"order.{tool or 'action'}", resource_kind="order", resource_id=number,
                             outcome=f"refused:{refusal.code}", via="chat", always=True)
            raise

    def _authenticate(self, ctx: ActionContext, number: str) -> tuple[dict[str, Any], str]:
        if not ctx.tenant.actions.enabled:
            raise Refusal("disabled", number)
        proofs = [f"email:{fold(e)}" for e in ctx.emails if e]
        if ctx.verified is not None:
            proofs += [f"id:{ctx.verified.id}"] if ctx.verified.id else []
            proofs += [f"email:{fold(ctx.verified.email)}"] if ctx.verified.email else []
        if not proofs:
            raise Refusal("not_authenticated", number)
        order = self.shop.find_order(ctx.tenant.id, number)
        owners = orders.owner_keys(order) if order else set()
        proved = [p for p in proofs if p in owners]
        if order is None or not proved:
            raise Refusal("not_owner", number)
        if ctx.owner and ctx.owner not in owners:
            raise Refusal("other_customer", number)
        return order, ctx.owner or proved[0]

    # What -----------------------------------------------------------------------------------------------------
    def check_stage(self, ctx: ActionContext, tool: str, order: dict[str, Any], number: str) -> None:
        """Whether the order's stage on Shopify's status graphs (and the shop's return window) allows ``tool`` at
        all, whatever its arguments: ``Refusal`` otherwise."""
        stage = orders.stage(order)
        if stage == "cancelled":
            raise Refusal("already_cancelled", number)
        if tool in ("cancel_order", "change_shipping_address", "change_items") and stage != "unfulfilled":
            offer = "start_return" if stage == "delivered" else None
            raise Refusal("shipped", number, offer=offer)
        if tool in ("start_return", "start_exchange"):
            if stage == "unfulfilled":
                raise Refusal("not_shipped", number)
            if stage == "refunded":
                raise Refusal("nothing_to_refund", number)
            if stage != "delivered":
                raise Refusal("not_delivered", number)
            days = ctx.tenant.actions.return_window_days
            if not orders.within_return_window(order, days, ctx.now):
                raise Refusal("outside_return_window", number, days=days)
        if tool == "refund" and orders.refundable(order) <= 0:
            raise Refusal("nothing_to_refund", number)

    def _product(self, ctx: ActionContext, line: dict[str, Any]) -> dict[str, Any] | None:
        """The catalogue's product of an order's line; None when it is gone or the catalogue cannot be read now."""
        try:
            product = self.shop.get_product(ctx.tenant.id, str(line["product_id"])) if line.get("product_id") else None
            if product is None and line.get("sku"):
                product = next((p for p in self.shop.all_products(ctx.tenant.id)
                                if any(v.get("sku") == line["sku"] for v in p.get("variants") or [])), None)
        except IntegrationError:
            product = None  # the item's own title and variant decide
        return product

    def _item(self, ctx: ActionContext, line: dict[str, Any]) -> tuple[Item, list[str]]:
        """The order's line as the shop names it (its product's type and tags beside its title and variant), and
        its product's tags."""
        product = self._product(ctx, line) or {}
        tags = product.get("tags") or ""
        tags = [t.strip() for t in (tags if isinstance(tags, list) else str(tags).split(",")) if t.strip()]
        return Item(title=line.get("title") or product.get("title") or "", variant=line.get("variant_title") or "",
                    product_type=product.get("product_type") or "", tags=tuple(tags)), tags

    def _cancel_restricted(self, ctx: ActionContext, lines: list[dict[str, Any]]) -> tuple[list[str], str] | None:
        """(items, clause): the order's lines a rule of the shop's pages on cancelling names, and that rule; None
        when none does or the pages cannot be read now (the order's stage decides)."""
        if self.cancel_rules is None:
            return None
        named, clauses = [], []
        for line in lines:
            try:
                clause = self.cancel_rules(ctx.tenant.id, ctx.language, self._item(ctx, line)[0])
            except Exception:  # noqa: BLE001 - the shop's pages cannot be read now
                log.warning("cancellation rules unreadable tenant=%s", ctx.tenant.id, exc_info=True)
                return None
            if clause:
                named.append(orders.line_label(line))
                if clause not in clauses:
                    clauses.append(clause)
        return (named, " ".join(clauses)) if named else None

    def _final_sale(self, ctx: ActionContext, line: dict[str, Any]) -> str | None:
        """Why the item can't be returned or exchanged: "" when the shop marks it final sale (in its title or
        variant, or in its product's tags), the clause of the shop's returns page that excludes it ("Engraved
        straps or anything personalised for you"), or None when it can be."""
        if words.marks_final_sale(line.get("title") or "", line.get("variant_title") or ""):
            return ""
        item, tags = self._item(ctx, line)
        if words.marks_final_sale(*tags):
            return ""
        if self.exclusions is None:
            return None
        try:
            return self.exclusions(ctx.tenant.id, ctx.language, item)
        except Exception:  # noqa: BLE001 - the shop's pages cannot be read now: the item's own marks decide
            log.warning("return exclusions unreadable tenant=%s", ctx.tenant.id, exc_info=True)
            return None

    def _check(self, ctx: ActionContext, tool: str, args: tools._Args, order: dict[str, Any]) -> dict[str, Any]:
        """Shopify's status graphs and the shop's policy for this change on this order; the details the reply
        lists."""
        number = args.number
        self.check_stage(ctx, tool, order, number)
        currency = order.get("currency") or ctx.tenant.currency
        lines = {str(li.get("id")): li for li in order.get("line_items") or []}
        if tool in ("start_return", "start_exchange"):
            items = self.check_items(ctx, number, order, [(i.line_item_id, i.quantity)
                                                          for i in args.items])  # type: ignore[attr-defined]
            return {"items": items, "reason": args.reason}  # type: ignore[attr-defined]
        if tool == "cancel_order":
            restricted = self._cancel_restricted(ctx, list(lines.values()))
            if restricted is not None:
                # the shop's own words, quoted, and a person to look at it with the customer
                raise Refusal("cancel_restricted", number, items=restricted[0], clause=restricted[1])
            return {"items": [orders.line_label(li) for li in lines.values()], "total": order.get("total_price"),
                    "amount": f"{orders.refundable(order):.2f}", "currency": currency}
        if tool == "change_shipping_address":
            return {"address": args.address.line()}  # type: ignore[attr-defined]
        if tool == "change_items":
            return {"changes": self._item_changes(ctx, args, order)}
        if tool == "refund":
            left = orders.refundable(order)
            amount = Decimal(args.amount)  # type: ignore[attr-defined]
            if amount <= 0 or amount > left:
                raise Refusal("refund_too_much", number, left=f"{left:.2f}", currency=currency)
            return {"amount": f"{amount:.2f}", "currency": currency}
        raise Refusal("invalid_arguments", number, fields=["tool"])

    def check_items(self, ctx: ActionContext, number: str, order: dict[str, Any],
                    items: list[tuple[str, int]]) -> list[str]:
        """The labels of the order's lines going back, ``(line item id, quantity)``; ``Refusal`` when one is final
        sale or its returns page excludes it, whatever the order's stage."""
        lines = {str(li.get("id")): li for li in order.get("line_items") or []}
        labels, final, clauses = [], [], []
        for line_id, quantity in items:
            line = lines.get(line_id)
            if line is None or quantity > int(line.get("quantity") or 0):
                raise Refusal("invalid_arguments", number, fields=["items"])
            labels.append(orders.line_label(line, quantity))
            why = self._final_sale(ctx, line)
            if why is not None:
                final.append(orders.line_label(line))
                if why and why not in clauses:
                    clauses.append(why)
        if final and clauses:
            # the shop's own words, quoted, and a person to look at it with the customer
            raise Refusal("excluded_by_policy", number, items=final, clause=" ".join(clauses))
        if final:
            raise Refusal("final_sale", number, items=final)
        return labels

    def _item_changes(self, ctx: ActionContext, args: Any, order: dict[str, Any]) -> list[dict[str, Any]]:
        by_variant = {str(li.get("variant_id")): li for li in order.get("line_items") or []}
        catalogue: dict[str, tuple[dict, dict]] = {}
        out = []
        for change in args.changes:
            line = by_variant.get(change.variant_id)
            if line is None:
                if not catalogue:
                    catalogue = {str(v.get("id")): (p, v) for p in self.shop.all_products(ctx.tenant.id)
                                 for v in p.get("variants") or []}
                if change.variant_id not in catalogue or change.quantity == 0:
                    raise Refusal("invalid_arguments", args.number, fields=["changes"])
                product, variant = catalogue[change.variant_id]
                title = variant.get("title")
                line = {"title": product.get("title"), "price": variant.get("price"),
                        "variant_title": None if title in (None, "Default Title") else title,
                        "product_id": product.get("id")}
            out.append({"variant_id": change.variant_id, "quantity": change.quantity, "title": line.get("title"),
                        "variant_title": line.get("variant_title"), "price": line.get("price"),
                        "product_id": line.get("product_id"), "label": orders.line_label(line, change.quantity)})
        return out

    def propose(self, ctx: ActionContext, tool: str, args: dict[str, Any]) -> Proposal:
        try:
            parsed = tools.parse(tool, args)
        except tools.InvalidArguments as exc:
            raise Refusal("invalid_arguments", str(args.get("order") or "").lstrip("#") or None,
                          fields=exc.fields) from None
        order, owner = self.authenticate(ctx, parsed.number, tool)
        details = self._check(ctx, tool, parsed, order)
        normal = parsed.model_dump(mode="json")
        fingerprint = orders.fingerprint(order)
        proposal_id = hashlib.sha256(_canonical([ctx.conversation_id, tool, normal, fingerprint]).encode()
                                     ).hexdigest()[:16]
        # cancelling a paid order refunds it: above the limit a person approves that refund, as one asked for
        approval = tool in ("refund", "cancel_order") and Decimal(details["amount"]) > Decimal(
            str(ctx.tenant.escalation.refund_auto_approve_limit))
        return Proposal(tool=tool, args=normal, order_number=parsed.number, proposal_id=proposal_id,
                        fingerprint=fingerprint, owner=owner, approval=approval, details=details)

    # Doing it ---------------------------------------------------------------------------------------------------
    def confirm(self, ctx: ActionContext, proposal_id: str, message: str) -> ActionResult:
        """Run the pending proposal ``proposal_id`` if ``message`` is the customer's explicit yes."""
        proposal = ctx.pending
        if proposal is None or proposal.proposal_id != proposal_id:
            raise Refusal("no_proposal", proposal.order_number if proposal else None)
        if not words.confirms(message):
            raise Refusal("not_confirmed", proposal.order_number)
        tenant_id = ctx.tenant.id
        key = ledger.action_id(tenant_id, ctx.conversation_id, proposal_id)
        order, owner = self.authenticate(ctx, proposal.order_number, proposal.tool)
        if proposal.owner not in orders.owner_keys(order):
            raise Refusal("other_customer", proposal.order_number)
        finished = ledger.done(self.store, tenant_id, key)
        if finished is not None:
            result = ActionResult.model_validate(finished["outcome"])
            if result.status == "done" and not finished.get("published"):
                self._emit(ctx, proposal, key, result)  # the first attempt wrote, then failed to publish
            return result
        started = self.store.get(tenant_id, ledger.COLLECTION, key) is not None
        parsed = tools.parse(proposal.tool, proposal.args)
        if not started:  # a started action already changed the order: finishing it is what the customer confirmed
            if orders.fingerprint(order) != proposal.fingerprint:
                self._audit(ctx, proposal, owner, "refused:order_changed")
                raise Refusal("order_changed", proposal.order_number)
            try:
                self._check(ctx, proposal.tool, parsed, order)
            except Refusal as refusal:
                self._audit(ctx, proposal, owner, f"refused:{refusal.code}")
                raise
        record = {"tool": proposal.tool, "order_number": proposal.order_number, "proposal_id": proposal_id,
                  "conversation_id": ctx.conversation_id}
        try:
            outcome, ran = ledger.once(self.store, tenant_id, key, record,
                                       lambda: self._run(ctx, proposal, parsed, key))
        except ActionRefused:
            self._audit(ctx, proposal, owner, "refused:by_shop")
            raise Refusal("refused_by_shop", proposal.order_number) from None
        except IntegrationError:
            log.warning("order action failed tenant=%s action=%s tool=%s", tenant_id, key, proposal.tool)
            raise Refusal("shop_unavailable", proposal.order_number) from None
        result = ActionResult.model_validate(outcome)
        if ran:
            self._audit(ctx, proposal, owner, result.status)
            if result.status == "done":
                self._emit(ctx, proposal, key, result)
        return result

    def _run(self, ctx: ActionContext, proposal: Proposal, args: Any, key: str) -> dict[str, Any]:
        tenant_id, number = ctx.tenant.id, proposal.order_number
        details = dict(proposal.details)
        status = "done"
        if proposal.approval:
            status = "approval_requested"
        else:
            try:
                self._write(tenant_id, number, proposal, args, key, details)
            except ActionUnsupported:
                status = "approval_requested"
        log.info("order action tenant=%s action=%s tool=%s status=%s", tenant_id, key, proposal.tool, status)
        return ActionResult(tool=proposal.tool, order_number=number, action_id=key, status=status,
                            details=details).model_dump(mode="json")

    def _write(self, tenant_id: str, number: str, proposal: Proposal, args: Any, key: str,
               details: dict[str, Any]) -> None:
        shop = self.actions
        if proposal.tool == "cancel_order":
            shop.cancel_order(tenant_id, number, reason=args.reason, action_id=key)
        elif proposal.tool == "change_shipping_address":
            shop.change_shipping_address(tenant_id, number, args.address.model_dump(exclude_none=True),
                                         action_id=key)
        elif proposal.tool == "change_items":
            shop.change_items(tenant_id, number, details["changes"], action_id=key)
        elif proposal.tool in ("start_return", "start_exchange"):
            details["return_id"] = "R-" + key[2:10].upper()
            shop.record_return(tenant_id, number, {
                "id": details["return_id"], "kind": "exchange" if proposal.tool == "start_exchange" else "return",
                "items": details["items"], "reason": args.reason}, action_id=key)
        elif proposal.tool == "refund":
            shop.refund(tenant_id, number, details["amount"], currency=details["currency"],
                        note="refund requested in chat", action_id=key)

    def _audit(self, ctx: ActionContext, proposal: Proposal, owner: str, outcome: str) -> None:
        audit.record(self.store, self.settings, ctx.tenant, actor_kind="customer", actor_id=owner,
                     action=f"order.{proposal.tool}", resource_kind="order", resource_id=proposal.order_number,
                     outcome=outcome, via="chat", always=True)

    def _emit(self, ctx: ActionContext, proposal: Proposal, key: str, result: ActionResult) -> None:
        """The action's CloudEvent, its id derived from the action id (a second publish is the same event)."""
        if self.publish is None:
            return
        data = {"order_number": proposal.order_number, "action_id": key, "tool": proposal.tool,
                "conversation_id": ctx.conversation_id,
                **{k: result.details[k] for k in ("return_id", "amount", "currency") if k in result.details}}
        event = new_event(ctx.tenant.id, tools.TOOLS[proposal.tool].event, proposal.order_number, data,
                          event_id=stable_id(ctx.tenant.id, "order-action", key))
        self.publish([event])
        ledger.mark_published(self.store, ctx.tenant.id, key)
