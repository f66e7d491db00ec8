"""The offline provider's order-action dialogue, and the chat turn's ``take_action`` step.

Deterministic: a message that asks for an action ("cancel my order 1038", "je veux retourner…", "quiero devolver…")
starts it; the slots (order number, the e-mail that proves the order is the customer's, the items, the new address,
the amount) are filled over turns and kept in the conversation; once they are, the change is listed and the
customer's yes is asked for; the customer's yes runs it. Every proposal and every write goes through
``core.actions.policy.ActionGuard``, which enforces the shop's policy whatever this dialogue does.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from core.agents import critic, escalation
from core.agents.record_dates import iso_date
from core.integrations.imported_actions import ImportedShopActions
from core.models import ActionOutcome, Language
from core.pii.addresses import find_addresses
from core.text import tokens
from core.turn.ports import TurnPorts
from core.turn.state import TurnState

from . import exclusions, orders, words
from .policy import ActionContext, ActionGuard, ActionResult, Proposal, Refusal
from .words import REPLIES

#: The intents an action request is recognised under (with the action's words); under any other, the message must
#: name the order ("a refund for order 1024": the classifier may have heard a complaint or a promotion).
ACTION_INTENTS = {"order_status", "returns_refunds", "shipping"}
#: A signed-in customer's most recent orders that "my order" may mean.
RECENT_ORDERS = 3

#: Refusals by where the order stands (its stage, its return window, what it holds, what is left to refund): the shop's
#: pages say what applies then, which the reply adds (``core.agents.response.refusal_rule``); a refusal that quotes
#: the page already, or that says something failed, does not.
STAGE_REFUSALS = frozenset({"already_cancelled", "shipped", "not_shipped", "not_delivered", "outside_return_window",
                            "final_sale", "nothing_to_refund", "refund_too_much"})
#: Refusals that answer a question whether a change can be made to an order ("can I return the earrings from order
#: 1184?"): where the order stands, and what the shop says of its items.
#: ("not shipped yet" does not answer "once it arrives, can I return it?")
TOLD_REFUSALS = (STAGE_REFUSALS - {"not_shipped", "not_delivered"}) | {"excluded_by_policy", "cancel_restricted"}

#: Stage refusals that, to a question whether an item can come back, an item marked final sale goes before: what
#: the customer asks first is whether it can come back at all, not when it could have.
ITEMS_FIRST = frozenset({"outside_return_window"})

_POSTAL = re.compile(r"^(?:[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d|\d{5}(?:-\d{4})?)$")
_STREET = re.compile(r"\d+[\w-]*,?\s+[^,\n]{2,}(?:,[^,\n]+){1,4}")
_AMOUNT = re.compile(r"(\d{1,7}(?:[.,]\d{1,2})?)")
_QUANTITY = re.compile(r"(?<![#\d.,])\b(\d{1,2})\b(?![.,]?\d)")


# Rules (pure: the orchestrator evaluates them) ----------------------------------------------------------------------
def in_play(state: TurnState) -> bool:
    """The turn belongs to the action dialogue: one is under way in this conversation, or the message asks for an
    action on an order."""
    if not critic.lets_through(state) or state.context is None or state.intent is None:
        return False
    if not state.context.tenant.actions.enabled:
        return False
    if state.context.pending_action:
        return True
    names_order = bool(state.intent.entities.order_numbers)
    if not ((state.intent.label in ACTION_INTENTS or names_order) and words.tool_asked(state.turn.message)):
        return False
    # (a question whether the change can be made to an order the message names, or to one of a signed-in customer's,
    # is the dialogue's too: the order's stage and the shop's exclusions may answer it)
    if not (words.is_request(state.turn.message) or names_order or state.context.customer is not None):
        return False
    # A message that goes to a person (an injury, a complaint, a refund above what the shop approves on its own, a
    # request for a human) is theirs, not the dialogue's.
    return escalation.decide(state.intent, state.screen, unanswered_turns=0, message=state.turn.message,
                             refund_limit=state.context.tenant.escalation.refund_auto_approve_limit) is None


def answered(state: TurnState) -> bool:
    """Pure rule: the action dialogue wrote this turn's reply."""
    return state.action is not None and state.action.handled


# The step -------------------------------------------------------------------------------------------------------------
def guard_for(ports: TurnPorts, tenant_id: str) -> ActionGuard:
    actions = ports.actions_for(tenant_id) if ports.actions_for else ImportedShopActions(ports.store)
    return ActionGuard(shop=ports.shop_for(tenant_id), actions=actions, store=ports.store, settings=ports.settings,
                       publish=ports.publish, exclusions=exclusions.checker(ports.knowledge, ports.store),
                       cancel_rules=exclusions.checker(ports.knowledge, ports.store, cancelling=True))


def _now(received_at: str) -> datetime:
    try:
        return datetime.fromisoformat(received_at.replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC)


def take_action(state: TurnState, ports: TurnPorts) -> ActionOutcome:
    ctx, turn, intent = state.context, state.turn, state.intent
    assert ctx is not None and intent is not None
    guard = guard_for(ports, turn.tenant_id)
    pending = dict(ctx.pending_action or {})
    proposal = Proposal.model_validate(pending["proposal"]) if pending.get("proposal") else None
    actx = ActionContext(tenant=ctx.tenant, conversation_id=turn.conversation_id, now=_now(turn.received_at),
                         verified=ctx.customer, owner=ctx.action_owner, pending=proposal,
                         emails=[e for e in (*intent.entities.emails, ctx.verified_email) if e],
                         language=state.language)
    return Dialogue(guard, actx, state.language, turn.message, intent.entities.order_numbers,
                    intent.entities.amounts, ctx.order_number if not ctx.order_from_list else None,
                    listed_order=ctx.order_number if ctx.order_from_list else None,
                    conversation_language=ctx.language, message_emails=intent.entities.emails).step(pending)


class Dialogue:
    """One turn of the dialogue over the guard."""

    def __init__(self, guard: ActionGuard, ctx: ActionContext, language: Language, message: str,
                 order_numbers: list[str], amounts: list[str], slot_order: str | None, *,
                 conversation_language: Language | None = None, message_emails: Sequence[str] = (),
                 listed_order: str | None = None):
        self.guard, self.ctx, self.language, self.message = guard, ctx, language, message
        # The most recent of the orders the desk listed to the signed-in customer: "cancel it" after the listing,
        # when the message names no order and none of their items.
        self.listed_order = listed_order
        self.message_emails = message_emails  # the e-mail addresses the message itself gives (the intent's entities)
        self.order_numbers, self.amounts, self.slot_order = order_numbers, amounts, slot_order
        self.conversation_language = conversation_language

    def say(self, key: str, **values: Any) -> str:
        return REPLIES.render(key, self.language, **values)

    def outcome(self, reply: str | None, pending: dict | None = None, *, order: str | None = None,
                owner: str | None = None, approval: dict | None = None, grounding: tuple[str, ...] | list[str] = (),
                refusal: str | None = None) -> ActionOutcome:
        return ActionOutcome(handled=reply is not None, reply=reply, language=self.language, pending=pending,
                             owner=owner or self.ctx.owner, order_number=order, approval=approval,
                             grounding=[self.message, *grounding], refusal=refusal)

    def step(self, pending: dict) -> ActionOutcome:
        asked = words.tool_asked(self.message) if words.is_request(self.message) else None
        if pending and asked is None:
            if self.ctx.pending is not None and words.confirms(self.message):
                return self.confirm(self.ctx.pending)
            if words.declines(self.message):
                # A no answers the conversation's question, in its language ("no" is English and Spanish alike).
                self.language = self.conversation_language or self.language
                return self.outcome(self.say("not_changed"))
            if self.ctx.pending is not None:
                return self.outcome(None)  # anything but a yes leaves the order as it is
        if asked is None and not pending:
            tool = words.tool_asked(self.message)
            return self.told(tool) if tool else self.outcome(None)
        if pending and not (pending.get("slots") or {}).get("order") and not self.order_numbers:
            self.order_numbers = words.order_numbers(self.message)  # "it's 1038", the answer to "which order?"
        if asked is None and self.answers_nothing_asked(pending):
            return self.outcome(None)  # the customer moved on: the turn is answered as any other, the action dropped
        tool = asked or pending["tool"]
        slots = dict(pending.get("slots") or {}) if pending.get("tool") == tool else {}
        return self.fill(tool, slots)

    def told(self, tool: str) -> ActionOutcome:
        """A question whether a change can be made to an order ("can I return the earrings from order 1184?",
        "can order 1192 still be cancelled?", "where is my refund for 1188?"): when where the order stands or what
        the shop says of its items (final sale, excluded by its returns page, a rule on cancelling) rules it out,
        the refusal with the order's facts answers it, and the shop's rule after it; otherwise the shop's pages do,
        with the order beside them, and nothing is proposed."""
        number = (self.order_numbers[:1] or self.bare_order_numbers()[:1] or [self.slot_order])[0] \
            or self.order_naming_item() or (self.listed_order if self.ctx.verified is not None else None)
        if not number:
            return self.outcome(None)
        number = number.lstrip("#")
        try:
            order, owner = self.guard.authenticate(self.ctx, number, tool)
        except Refusal:
            return self.outcome(None)
        try:
            self.guard.check_stage(self.ctx, tool, order, number)
            if tool == "cancel_order":
                self.guard.propose(self.ctx, tool, {"order": number, "reason": "customer"})
        except Refusal as refusal:
            if refusal.code in TOLD_REFUSALS:
                if refusal.code in ITEMS_FIRST:
                    # (the shop's own final-sale mark on an item, not a reading of its returns page)
                    marked = self.items_refusal(tool, order, number)
                    refusal = marked if marked is not None and marked.code == "final_sale" else refusal
                return self.refused(refusal, owner=owner, order=order)
        refusal = self.items_refusal(tool, order, number)
        if refusal is not None:
            return self.refused(refusal, owner=owner, order=order)
        return self.outcome(None, order=number, owner=owner).model_copy(update={"asks_policy": True})

    def bare_order_numbers(self) -> list[str]:
        """The numbers of the message that may be an order's without saying so ("can I return the earrings from
        1184?"): for a signed-in customer, only those of their own orders ("the 270 mm one" names a length)."""
        found = words.order_numbers(self.message)
        if self.ctx.verified is None:
            return found
        own = {str(orders.number(o) or "").lstrip("#") for o in self.customer_orders}
        return [n for n in found if n in own]

    def items_refusal(self, tool: str, order: dict[str, Any], number: str) -> Refusal | None:
        """For a return or an exchange, the refusal its items meet whatever the order's stage (final sale, excluded
        by the shop's returns page): of the lines the message names, or of all of them when it names none."""
        if tool not in ("start_return", "start_exchange"):
            return None
        lines = order.get("line_items") or []
        try:
            self.guard.check_items(self.ctx, number, order, [(str(li.get("id")), int(li.get("quantity") or 1))
                                                             for li in self.named_lines(lines) or lines])
        except Refusal as refusal:
            return refusal if refusal.code in ("final_sale", "excluded_by_policy") else None
        return None

    def answers_nothing_asked(self, pending: dict) -> bool:
        """The dialogue asked which order (or for the e-mail on it), and the message gives neither an order number
        nor an e-mail address: it is about something else ("and do you ship to Quebec?")."""
        if pending.get("proposal"):
            return False
        slots = pending.get("slots") or {}
        if slots.get("order") or self.slot_order:
            awaiting_email = not self.ctx.emails and self.ctx.verified is None
            return awaiting_email and not self.message_emails
        return not self.order_numbers and not self.message_emails

    # Slots -----------------------------------------------------------------------------------------------------
    def fill(self, tool: str, slots: dict[str, Any]) -> ActionOutcome:
        number = (self.order_numbers[:1] or [slots.get("order") or self.slot_order])[0] or self.order_naming_item() \
            or (self.listed_order if self.ctx.verified is not None else None) or self.only_order_for(tool)
        if not number:
            return self.outcome(self.say("ask_order"), {"tool": tool, "slots": slots})
        number = number.lstrip("#")
        slots["order"] = number
        try:
            order, owner = self.guard.authenticate(self.ctx, number, tool)
        except Refusal as refusal:
            if refusal.code == "not_authenticated":
                return self.outcome(self.say("ask_email", number=number), {"tool": tool, "slots": slots},
                                    grounding=[number])
            return self.refused(refusal)
        self.ctx.owner = owner
        try:
            self.guard.check_stage(self.ctx, tool, order, number)
        except Refusal as refusal:
            if refusal.offer == "start_return":
                return self.offer_return(refusal, number, owner)
            if refusal.code in ("not_shipped", "not_delivered"):
                # (an item that can't come back at all is what to know first, before when it could)
                refusal = self.items_refusal(tool, order, number) or refusal
            return self.refused(refusal, owner=owner, order=order)
        args, question = self.arguments(tool, slots, order)
        if question is not None:
            facts = {k: order.get(k) for k in ("line_items", "total_price", "currency")}
            return self.outcome(question, {"tool": tool, "slots": slots}, order=number, owner=owner,
                                grounding=[number, f"{orders.refundable(order):.2f}", json.dumps(facts, default=str)])
        return self.propose(tool, args, number, owner)

    def only_order_for(self, tool: str) -> str | None:
        """A signed-in customer's order the change can only mean ("change the address on my order"): of their
        recent orders, the single one whose stage allows it (a cancellation or an address change before it ships, a
        return after delivery); None when none or several do, and the customer is asked which."""
        if self.ctx.verified is None:
            return None
        fits = []
        for order in self.customer_orders[:RECENT_ORDERS]:
            number = orders.number(order)
            try:
                self.guard.check_stage(self.ctx, tool, order, number or "")
            except Refusal:
                continue
            fits.append(number)
        return fits[0] if len(fits) == 1 else None

    @functools.cached_property
    def customer_orders(self) -> list[dict[str, Any]]:
        """The signed-in customer's orders, most recent first (read once a turn)."""
        return self.guard.shop.orders_for(self.ctx.tenant.id, self.ctx.verified) \
            if self.ctx.verified is not None else []

    def order_naming_item(self) -> str | None:
        """A signed-in customer's order the message points to by an item in it ("the leather strap from my last
        order"): of their orders, the one whose lines share the most title words with the message, the most recent
        on a tie; None when the message names none of their items."""
        if self.ctx.verified is None:
            return None
        said = set(tokens(self.message))
        best, best_hits = None, 0
        for order in self.customer_orders:  # most recent first
            for line in order.get("line_items") or []:
                hits = sum(t in said for t in dict.fromkeys(tokens(line.get("title") or "")) if len(t) > 3)
                if hits > best_hits:
                    best, best_hits = order, hits
        return orders.number(best) if best is not None else None

    def arguments(self, tool: str, slots: dict[str, Any], order: dict[str, Any]) -> tuple[dict, str | None]:
        number = slots["order"]
        lines = order.get("line_items") or []
        listing = ", ".join(self.quoted(orders.line_label(li)) for li in lines)
        if tool == "cancel_order":
            return {"order": number, "reason": "customer"}, None
        if tool == "change_shipping_address":
            address = slots.get("address") or parse_address(self.message)
            if not address:
                return {}, self.say("ask_address", number=number)
            slots["address"] = address
            return {"order": number, "address": address}, None
        if tool in ("start_return", "start_exchange"):
            items = slots.get("items") or self.pick_lines(lines)
            slots["reason"] = words.return_reason(self.message) or slots.get("reason") or "other"
            if not items:
                return {}, self.say("ask_items", number=number, items=listing)
            slots["items"] = items
            return {"order": number, "items": items, "reason": slots["reason"]}, None
        if tool == "refund":
            amount = slots.get("amount") or self.amount(number) or self.lines_amount(lines)
            if not amount:
                left = orders.refundable(order)
                return {}, self.say("ask_amount", number=number, left=f"{left:.2f}",
                                    currency=order.get("currency") or self.ctx.tenant.currency)
            slots["amount"] = amount
            return {"order": number, "amount": amount}, None
        if tool == "change_items":
            changes = slots.get("changes") or self.item_changes(lines)
            if not changes:
                return {}, self.say("ask_changes", number=number, items=listing)
            slots["changes"] = changes
            return {"order": number, "changes": changes}, None
        return {"order": number}, None

    def named_lines(self, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The order lines the message names: those sharing the most title words with it (or, failing that, the
        products the catalogue matches the message to, through its glossary and cognates)."""
        said = set(tokens(self.message))
        hits = [sum(t in said for t in dict.fromkeys(tokens(li.get("title") or "")) if len(t) > 3) for li in lines]
        if hits and max(hits) > 0:
            return [li for li, n in zip(lines, hits, strict=True) if n == max(hits)]
        matched = {str(p.get("id")) for p, _ in self.guard.shop.match_products(self.ctx.tenant.id, self.message)}
        return [li for li in lines if str(li.get("product_id")) in matched]

    def lines_amount(self, lines: list[dict[str, Any]]) -> str | None:
        """What the items the message names cost ("refund the heat mat and the trays in full"), when it names some
        and gives no amount."""
        named = lines if words.means_all_items(self.message) else self.named_lines(lines)
        total = sum(float(li.get("price") or 0) * int(li.get("quantity") or 1) for li in named)
        return f"{total:.2f}" if total > 0 else None

    def pick_lines(self, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The lines going back: those the message names; every line when it says all, or when there is one."""
        chosen = lines if len(lines) == 1 or words.means_all_items(self.message) else self.named_lines(lines)
        return [{"line_item_id": str(li["id"]), "quantity": int(li.get("quantity") or 1)} for li in chosen]

    def item_changes(self, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """"remove the lavender soap" (0), "change the lavender soap to 3" (3), "add 2 lavender soaps" (+2)."""
        named = self.named_lines(lines)
        if named:
            variant, held = str(named[0].get("variant_id")), int(named[0].get("quantity") or 0)
        else:
            matches = self.guard.shop.match_products(self.ctx.tenant.id, self.message)
            if not matches:
                return []
            variant, held = str(((matches[0][0].get("variants") or [{}])[0]).get("id")), 0
        folded = " ".join(tokens(self.message))
        numbers = [int(n) for n in _QUANTITY.findall(folded) if n not in self.order_numbers]
        if re.search(r"\b(remove|retir|enlev|quit|elimin|drop)", folded):
            quantity = 0
        elif re.search(r"\b(add|ajout|anad|agreg)", folded):
            quantity = held + (numbers[0] if numbers else 1)
        elif numbers:
            quantity = numbers[0]
        else:
            return []
        return [{"variant_id": variant, "quantity": quantity}] if variant.isdigit() else []

    def amount(self, number: str) -> str | None:
        for text in [*self.amounts, self.message]:
            for match in _AMOUNT.findall(text):
                value = match.replace(",", ".")
                if value.lstrip("0") and value != number:
                    return value
        return None

    # Proposal and confirmation ---------------------------------------------------------------------------------
    def quoted(self, label: str) -> str:
        """An item in the reply: titles are shop data in the catalogue's language, quoted in a French or Spanish
        reply."""
        if self.language == "en":
            return label
        quantity, _, title = label.partition(" × ")
        return f"{quantity} × « {title} »" if self.language == "fr" else f"{quantity} × «{title}»"

    def render(self, prefix: str, tool: str, number: str, details: dict[str, Any]) -> str:
        return self.say(f"{prefix}_{tool}", number=number,
                        items=", ".join(self.quoted(i) for i in details.get("items") or []),
                        changes=", ".join(self.quoted(c["label"]) for c in details.get("changes") or []),
                        total=details.get("total"), currency=details.get("currency"),
                        address=details.get("address"), amount=details.get("amount"),
                        return_id=details.get("return_id"))

    def listed(self, proposal: Proposal) -> str:
        """What a proposal would do, as the reply lists it before asking for the customer's yes."""
        details = proposal.details
        if proposal.approval and proposal.tool == "cancel_order":
            return self.render("propose", proposal.tool, proposal.order_number, details) + self.say(
                "cancel_approval_note", amount=details["amount"], currency=details["currency"])
        if proposal.approval:
            return self.say("propose_refund_approval", number=proposal.order_number, amount=details["amount"],
                            currency=details["currency"])
        return self.render("propose", proposal.tool, proposal.order_number, details)

    def propose(self, tool: str, args: dict[str, Any], number: str, owner: str) -> ActionOutcome:
        try:
            proposal = self.guard.propose(self.ctx, tool, args)
        except Refusal as refusal:
            if refusal.offer == "start_return":
                return self.offer_return(refusal, number, owner)
            return self.refused(refusal, owner=owner)
        text = self.listed(proposal)
        pending = {"tool": tool, "slots": args, "proposal": proposal.model_dump(mode="json")}
        return self.outcome(text + self.say("confirm_question"), pending, order=number, owner=owner,
                            grounding=[number, json.dumps(proposal.details, ensure_ascii=False)])

    def offer_return(self, refusal: Refusal, number: str, owner: str) -> ActionOutcome:
        """A delivered order cannot be cancelled or changed: the refusal, and a return of all of it proposed."""
        text = self.say("refused_shipped", number=number)
        order = self.guard.shop.find_order(self.ctx.tenant.id, number) or {}
        items = [{"line_item_id": str(li["id"]), "quantity": int(li.get("quantity") or 1)}
                 for li in order.get("line_items") or []]
        try:
            proposal = self.guard.propose(self.ctx, "start_return", {"order": number, "items": items})
        except Refusal:
            return self.outcome(text, order=number, owner=owner, grounding=[number])
        pending = {"tool": "start_return", "slots": proposal.args, "proposal": proposal.model_dump(mode="json")}
        text += self.say("offer_return") + " " + self.render("propose", "start_return", number, proposal.details)
        return self.outcome(text + self.say("confirm_question"), pending, order=number, owner=owner,
                            grounding=[number, json.dumps(proposal.details, ensure_ascii=False)])

    def confirm(self, proposal: Proposal) -> ActionOutcome:
        try:
            result = self.guard.confirm(self.ctx, proposal.proposal_id, self.message)
        except Refusal as refusal:
            return self.refused(refusal, owner=proposal.owner)
        return self.report(result, proposal.owner)

    def report(self, result: ActionResult, owner: str) -> ActionOutcome:
        number = result.order_number
        grounding = [number, json.dumps(result.details, ensure_ascii=False)]
        if result.status == "approval_requested":
            return self.outcome(self.say("approval_requested", number=number), order=number, owner=owner,
                                approval={"tool": result.tool, "order_number": number, "action_id": result.action_id,
                                          **{k: v for k, v in result.details.items() if k in ("amount", "currency")}},
                                grounding=grounding)
        text = self.render("done", result.tool, number, result.details)
        instructions = self.ctx.tenant.actions.return_instructions
        if result.tool in ("start_return", "start_exchange") and instructions:
            text += self.say("return_instructions", text=instructions)
            grounding.append(instructions)
        return self.outcome(text, order=number, owner=owner, grounding=grounding)

    def refused(self, refusal: Refusal, *, owner: str | None = None, order: dict[str, Any] | None = None
                ) -> ActionOutcome:
        """The refusal's reply; on a cancelled order the customer proved is theirs, what its record says of the
        cancellation (the shop's note) and of the money (each refund, its amount and date), which is what "why is
        it cancelled?" or "was I refunded?" asks."""
        number = refusal.number or ""
        if refusal.code in ("no_proposal", "not_confirmed"):
            return self.outcome(self.say("not_changed"), owner=owner)
        key = f"refused_{refusal.code}"
        if key not in REPLIES:
            key = "refused_invalid_arguments"
        text = self.say(key, number=number, days=refusal.details.get("days", ""),
                        left=refusal.details.get("left", ""), currency=refusal.details.get("currency", ""),
                        items=", ".join(refusal.details.get("items") or []),
                        clause=refusal.details.get("clause", ""))
        if refusal.code == "shipped":
            # (delivered: a return can start now; on its way: once it arrives)
            text += self.say("offer_return" if refusal.offer == "start_return" else "offer_return_after_delivery")
        facts: list[str] = []
        if refusal.code == "already_cancelled" and order is not None:
            text, facts = text + self.cancellation(order), self.cancellation_facts(order)
        proved = refusal.code not in ("not_owner", "other_customer", "disabled")
        return self.outcome(text, order=number if proved and number else None, owner=owner,
                            grounding=[number, json.dumps(refusal.details, default=str), *facts],
                            refusal=refusal.code if proved and number and refusal.code in STAGE_REFUSALS else None)

    def cancellation_facts(self, order: dict[str, Any]) -> list[str]:
        note = (order.get("note") or "").strip()
        return [*([note] if note else []), *(f"{amount} {date or ''}" for amount, date in orders.refunds_made(order))]

    def cancellation(self, order: dict[str, Any]) -> str:
        text = ""
        note = (order.get("note") or "").strip()
        if note:
            text += self.say("cancelled_note", note=note)
        currency = order.get("currency") or self.ctx.tenant.currency
        for amount, date in orders.refunds_made(order):
            key = "cancelled_refund_dated" if date else "cancelled_refund"
            text += self.say(key, amount=amount, currency=currency, date=iso_date(date, self.language) if date else "")
        if not orders.refunds_made(order) and order.get("financial_status") in ("paid", "partially_paid"):
            text += self.say("cancelled_not_refunded")
        return text


def parse_address(message: str) -> dict[str, str] | None:
    """"12 Oak Street, Toronto, ON, M5V 2T6" (street, city, [province], [postal code], [country]), within a longer
    message too ("change the address of order 1039 to 45 Maple Avenue, Toronto…": the address the PII detector
    finds, not the order number before it)."""
    found = sorted(find_addresses(message), key=lambda span: span.start)
    match = _STREET.search(found[0].text(message) if found else message)
    if not match:
        return None
    parts = [p.strip() for p in match.group(0).split(",") if p.strip()]
    if parts and parts[0].isdigit() and len(parts) > 1:
        parts = [f"{parts[0]} {parts[1]}", *parts[2:]]  # "2217, rue Beaubien Est": the number and its street
    if len(parts) < 2:
        return None
    address: dict[str, str] = {"address1": parts[0], "city": parts[1]}
    for part in parts[2:]:
        if _POSTAL.match(part):
            address["zip"] = part.upper()
        elif "zip" not in address and "province" not in address:
            address["province"] = part
        else:
            address["country"] = part
    return address
