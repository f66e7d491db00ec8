"""The order actions through a model's function calls: with a model provider configured, the response agent is
offered the tools of ``core.actions.tools`` (the chat.completions ``tools`` parameter) and every call it makes goes
through the same ``ActionGuard`` as the offline dialogue.

A model cannot skip the policy: a call to a write tool only *proposes* the change (nothing is written; the shop's
template lists it and asks for the customer's yes), and only a later call with the same arguments, on a turn whose
customer message is an explicit yes to that proposal, runs it (``ActionGuard.confirm`` reads the customer's own
words, never the model's). Identity, one customer per conversation, Shopify's status graphs and the return window
are checked by the guard on every call. A refused call (an unknown tool, arguments that are not the tool's JSON
schema, someone else's order, no yes) goes back to the model as the tool's result. The reply is the shop's template
whenever a change was proposed or made; otherwise the model's words, unless they claim a change that no tool made
(then the template of what actually happened). When every model provider is down the offline dialogue answers.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core import lexicon
from core.agents.response import known_entities
from core.llm.providers import OFFLINE
from core.llm.types import CompletionRequest, Message, ToolCall
from core.models import ActionOutcome
from core.pii.spans import Label
from core.text import fold
from core.turn.ports import TurnPorts
from core.turn.state import TurnState

from . import dialogue, orders, tools
from .policy import ActionContext, ActionResult, Proposal, Refusal

log = logging.getLogger("shopdesk.actions")

#: Model rounds per turn (a look-up, an action, the reply); a model still calling tools after them gets no more.
MAX_ROUNDS = 4
LOOK_UP = "look_up_order"
_LANGUAGE_NAMES = {"en": "English", "fr": "Canadian French", "es": "Spanish"}
_CLAIMS = re.compile(lexicon.alternatives(lexicon.load("action_claims")["claims"]))


class LookUpOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order: str = Field(pattern=tools.ORDER_NUMBER, description="The order number, e.g. 1038 or #1038.")


def schemas() -> list[dict[str, Any]]:
    """The write tools and the one read tool, in the OpenAI ``tools`` format."""
    look_up = {"type": "function", "function": {
        "name": LOOK_UP, "description": "The customer's own order: its stage, lines (with their line and variant "
        "ids), totals and what can still be refunded. Only for an order the customer proved is theirs.",
        "parameters": LookUpOrder.model_json_schema()}}
    return [look_up, *tools.schemas()]


def model_configured(ports: TurnPorts) -> bool:
    return ports.llm is not None and not ports.llm.offline_only


def claims_action(text: str) -> bool:
    """The text says a change was made ("I've cancelled…", "j'ai annulé…", "he cancelado…")."""
    return bool(_CLAIMS.search(fold(text)))


@dataclass
class _Turn:
    """What the guard did with this turn's calls."""

    proposal: Proposal | None = None
    result: ActionResult | None = None
    refusals: list[Refusal] = field(default_factory=list)
    orders: list[str] = field(default_factory=list)  # orders the customer proved to own
    grounding: list[str] = field(default_factory=list)


class Calls:
    """Runs a model's tool calls through the guard, for one turn."""

    def __init__(self, talk: dialogue.Dialogue):
        self.talk, self.guard, self.ctx = talk, talk.guard, talk.ctx
        self.done = _Turn()

    def run(self, call: ToolCall) -> dict[str, Any]:
        try:
            args = json.loads(call.arguments or "{}")
            if not isinstance(args, dict):
                raise ValueError("arguments are not an object")
        except ValueError:
            return self._refused(Refusal("invalid_arguments", fields=["arguments"]))
        try:
            if call.name == LOOK_UP:
                return self._look_up(args)
            if call.name not in tools.TOOLS:
                return self._refused(Refusal("unknown_tool", fields=["name"]))
            return self._act(call.name, args)
        except Refusal as refusal:
            return self._refused(refusal)

    def _look_up(self, args: dict[str, Any]) -> dict[str, Any]:
        try:
            number = LookUpOrder.model_validate(args).order.lstrip("#")
        except ValidationError as exc:
            raise Refusal("invalid_arguments", fields=[".".join(map(str, e["loc"])) for e in exc.errors()]) from None
        order, owner = self.guard.authenticate(self.ctx, number, LOOK_UP)
        self._proved(number, owner)
        facts = {"order": number, "stage": orders.stage(order), "currency": order.get("currency"),
                 "total_price": order.get("total_price"), "refundable": f"{orders.refundable(order):.2f}",
                 "return_window_open": orders.within_return_window(
                     order, self.ctx.tenant.actions.return_window_days, self.ctx.now),
                 "line_items": [{"line_item_id": str(li.get("id")), "variant_id": str(li.get("variant_id")),
                                 "title": li.get("title"), "variant_title": li.get("variant_title"),
                                 "quantity": li.get("quantity"), "price": li.get("price")}
                                for li in order.get("line_items") or []]}
        self.done.grounding.append(json.dumps(facts, ensure_ascii=False, default=str))
        return {"status": "ok", **facts}

    def _act(self, tool: str, args: dict[str, Any]) -> dict[str, Any]:
        pending = self.ctx.pending
        if pending is not None and pending.tool == tool and self._same(tool, args, pending):
            # The change proposed on an earlier turn: it runs only if the customer's message says yes to it.
            result = self.guard.confirm(self.ctx, pending.proposal_id, self.talk.message)
            self.ctx.pending = None
            self.done.result = result
            self._proved(result.order_number, pending.owner)
            return {"status": result.status, "order": result.order_number, **result.details}
        if self.done.proposal is not None or self.done.result is not None:
            raise Refusal("one_change_at_a_time", str(args.get("order") or "").lstrip("#") or None)
        proposal = self.guard.propose(self.ctx, tool, args)
        self._proved(proposal.order_number, proposal.owner)
        self.done.proposal = proposal
        return {"status": "awaiting_confirmation", "order": proposal.order_number, "change": proposal.details,
                "note": "Nothing has changed yet. The shop lists this change to the customer and asks for their "
                        "yes; call the tool again with the same arguments after the customer says yes."}

    @staticmethod
    def _same(tool: str, args: dict[str, Any], pending: Proposal) -> bool:
        try:
            asked = tools.parse(tool, args).model_dump(mode="json")
        except tools.InvalidArguments:
            return False
        return {**asked, "order": asked["order"].lstrip("#")} == {**pending.args,
                                                                  "order": pending.args["order"].lstrip("#")}

    def _proved(self, number: str, owner: str) -> None:
        self.ctx.owner = owner
        if number not in self.done.orders:
            self.done.orders.append(number)

    def _refused(self, refusal: Refusal) -> dict[str, Any]:
        self.done.refusals.append(refusal)
        log.info("model tool call refused tenant=%s reason=%s", self.ctx.tenant.id, refusal.code)
        out: dict[str, Any] = {"status": "refused", "reason": refusal.code,
                               "note": "Nothing was changed."}
        if refusal.number:
            out["order"] = refusal.number
        if refusal.offer:
            out["could_offer"] = refusal.offer
        out.update({k: v for k, v in refusal.details.items() if k in ("fields", "days", "left", "currency")})
        self.done.grounding.append(json.dumps(out, ensure_ascii=False, default=str))
        return out


def _rules(shop: str, language: str, pending: Proposal | None) -> str:
    text = (
        f"You are the customer-service assistant of {shop}. Reply in {_LANGUAGE_NAMES[language]} only, in at most "
        "4 sentences. You may act on the customer's orders only through the tools; the shop checks every call. "
        "The customer must prove an order is theirs first (the shop signed them in, or they gave the order number "
        "and the e-mail address on the order in this conversation): ask for what is missing. A call to a tool that "
        "changes an order only proposes the change; the shop lists it to the customer and asks for their yes. "
        "Call the same tool with the same arguments again only after the customer answers yes. Never say a change "
        "was made unless a tool result says status 'done'. Use only facts from the tool results; never invent "
        "prices, dates or numbers. Keep tokens like TOKEN_… exactly as written."
    )
    if pending is not None:
        text += (f" Awaiting the customer's answer to this proposed change: {pending.tool} "
                 f"{json.dumps(pending.args, ensure_ascii=False)}.")
    return text


def _dialogue(state: TurnState, ports: TurnPorts) -> dialogue.Dialogue:
    """The conversation's action context (who proved what, the pending proposal) and the shop's reply templates."""
    ctx, turn, intent = state.context, state.turn, state.intent
    assert ctx is not None and intent is not None
    pending = ctx.pending_action or {}
    actx = ActionContext(tenant=ctx.tenant, conversation_id=turn.conversation_id,
                         now=dialogue._now(turn.received_at), verified=ctx.customer, owner=ctx.action_owner,
                         pending=Proposal.model_validate(pending["proposal"]) if pending.get("proposal") else None,
                         emails=[e for e in (*intent.entities.emails, ctx.verified_email) if e],
                         language=state.language)
    talk = dialogue.Dialogue(dialogue.guard_for(ports, turn.tenant_id), actx, state.language, turn.message,
                             intent.entities.order_numbers, intent.entities.amounts, None,
                             message_emails=intent.entities.emails)
    talk.conversation_language = ctx.language
    return talk


def take_action(state: TurnState, ports: TurnPorts) -> ActionOutcome:
    """The turn's order action decided by the model, every call through the guard; the offline dialogue when no
    model answers."""
    ctx, turn = state.context, state.turn
    assert ctx is not None and state.intent is not None
    talk = _dialogue(state, ports)
    calls = Calls(talk)
    messages = [Message("system", _rules(ctx.tenant.name, talk.language, talk.ctx.pending))]
    for past in ctx.history[-4:]:
        messages += [Message("user", past["user"]), Message("assistant", past["reply"])]
    messages.append(Message("user", turn.message))
    known = known_entities(state, ports)
    for number in state.intent.entities.order_numbers:
        known.add(Label.ORDER_NUMBER, number.lstrip("#"))  # the same token in the message and the tools' answers
    text, answered = "", False
    for _ in range(MAX_ROUNDS):
        request = CompletionRequest(
            agent="response", messages=messages, tenant_id=turn.tenant_id, conversation_id=turn.conversation_id,
            offline=lambda: "", tools=schemas(), known_entities=known, max_tokens=400)
        completion = ports.llm.complete(request, always_tokenize=ctx.tenant.pii_tokenization == "always")  # type: ignore[union-attr]
        if completion.provider == OFFLINE:
            if not answered:
                return dialogue.take_action(state, ports)
            break
        answered = True
        if not completion.tool_calls:
            text = completion.content.strip()
            break
        messages.append(Message("assistant", completion.content, list(completion.tool_calls)))
        for call in completion.tool_calls:
            result = calls.run(call)
            messages.append(Message("tool", json.dumps(result, ensure_ascii=False, default=str), tool_call_id=call.id))
    return _outcome(talk, calls.done, text)


def _outcome(talk: dialogue.Dialogue, done: _Turn, text: str) -> ActionOutcome:
    """The reply: the shop's template of a proposed or made change; otherwise the model's text, unless it claims a
    change nothing made."""
    number = done.orders[0] if done.orders else None
    grounding = [*done.grounding]
    if done.result is not None:
        reported = talk.report(done.result, talk.ctx.owner or "")
        return reported.model_copy(update={"grounding": [*reported.grounding, *grounding]})
    if done.proposal is not None:
        proposal = done.proposal
        details = proposal.details
        listed = talk.listed(proposal)
        pending = {"tool": proposal.tool, "slots": proposal.args, "proposal": proposal.model_dump(mode="json")}
        return talk.outcome(listed + talk.say("confirm_question"), pending, order=proposal.order_number,
                            owner=proposal.owner, grounding=[proposal.order_number, *grounding,
                                                              json.dumps(details, ensure_ascii=False)])
    if text and not claims_action(text):
        return talk.outcome(text, order=number, grounding=grounding)
    if done.refusals:
        refused = talk.refused(done.refusals[-1], owner=talk.ctx.owner)
        return refused.model_copy(update={"order_number": refused.order_number or number})
    if text:  # a claim no tool made true
        log.warning("model reply claimed an order change no tool made tenant=%s", talk.ctx.tenant.id)
        return talk.outcome(talk.say("not_changed"), order=number, grounding=grounding)
    return talk.outcome(None, order=number)
