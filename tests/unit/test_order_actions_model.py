"""Order actions on the model path: the real openai SDK, its HTTP served by recorded chat.completions responses
(``tests/fixtures/recorded/openai``), every step of the chat turn run in process on the demo shop's imported orders.
Whatever the model calls, the action guard decides: no write without the customer's yes to the listed change, no
act on another customer's order, a clean refusal for an unknown tool or malformed arguments."""

from __future__ import annotations

import copy
import json
import re
import uuid
from pathlib import Path

import httpx2
import pytest

from core import audit, conversations
from core.actions import function_calls, tools
from core.config import load_settings
from core.integrations.imported_shop import ImportedShop, order_facts
from core.llm.factory import build_router
from core.pii.router_adapter import RouterGuard
from tests.unit.test_order_action_dialogue import Chat as DialogueChat
from tests.unit.test_order_action_dialogue import approve_refunds_up_to

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "recorded" / "openai"
TEXT = json.loads((RECORDED / "chat_completion.json").read_text())
TOOL_CALLS = json.loads((RECORDED / "chat_completion_tool_calls.json").read_text())
MARIE, VALENTINA = "marie-eve.gagnon@example.com", "valentina.ramirez@example.com"
INTENT = {"label": "order_status", "sub_intent": "order_status.change", "confidence": 0.92, "language": "en",
          "wants_human": False, "products": []}


def call(name: str, arguments: dict | str) -> dict:
    """A recorded tool-call response, calling ``name`` with ``arguments`` (an object, or raw text as the model
    wrote it)."""
    body = copy.deepcopy(TOOL_CALLS)
    function = body["choices"][0]["message"]["tool_calls"][0]["function"]
    function["name"] = name
    function["arguments"] = arguments if isinstance(arguments, str) else json.dumps(arguments)
    body["choices"][0]["message"]["tool_calls"][0]["id"] = f"call_{uuid.uuid4().hex[:24]}"
    return body


def say(text: str) -> dict:
    body = copy.deepcopy(TEXT)
    body["choices"][0]["message"]["content"] = text
    return body


class Model:
    """The model's side of the wire: the intent agent's structured output, then the scripted responses to the
    requests that offer tools. Every request body is kept."""

    def __init__(self):
        self.script: list = []
        self.bodies: list[dict] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        self.bodies.append(body)
        if body.get("response_format"):
            return httpx2.Response(200, json=say(json.dumps(INTENT)))
        assert body.get("tools"), "only the intent and the action requests are scripted"
        step = self.script.pop(0)
        return httpx2.Response(200, json=step(body) if callable(step) else step)

    def tool_results(self) -> list[dict]:
        """What the tools answered, as the model was last told."""
        last = [b for b in self.bodies if b.get("tools")][-1]
        return [json.loads(m["content"]) for m in last["messages"] if m["role"] == "tool"]


def use_model(services, **settings) -> Model:
    model = Model()
    config = load_settings(**({"LLM_PROVIDER_ORDER": "azure_openai", "AZURE_OPENAI_ENDPOINT":
                               "https://shopdesk-demo.openai.azure.com/", "AZURE_OPENAI_API_KEY": "recorded-test-key"}
                              | settings))
    services.llm = build_router(config, ledger_store=services.store, guard=RouterGuard(services.pii_guard),
                                http_client=httpx2.Client(transport=httpx2.MockTransport(model)))
    return model


class Chat(DialogueChat):
    def pending(self) -> dict | None:
        return conversations.load(self.services.store, "demo", self.conversation).slots.action


def status(services, number: str) -> str:
    return order_facts(ImportedShop(services.store).find_order("demo", number)).status


def audited(services, number: str) -> list[str]:
    """The outcomes of the order actions audited on order ``number`` (the log names it by reference)."""
    ref = audit.reference(services.settings, "demo", number)
    return sorted(r["outcome"] for r in audit.list_records(services.store, "demo")
                  if r["action"].startswith("order.") and r["resource"]["ref"] == ref)


def test_the_model_is_offered_the_action_tools_and_proposes_then_cancels_after_the_customers_yes(services):
    approve_refunds_up_to(services, 500)
    model = use_model(services)
    chat = Chat(services)
    model.script = [call("cancel_order", {"order": "1038", "reason": "customer"}),
                    say("I can cancel order #1038 for you once you confirm.")]
    proposed = chat.say(f"Please cancel my order 1038, my e-mail is {MARIE}").recorded.result
    offered = [b for b in model.bodies if b.get("tools")][0]["tools"]
    assert [t["function"]["name"] for t in offered] == [function_calls.LOOK_UP, *tools.TOOLS]
    assert offered[1:] == tools.schemas()
    assert model.tool_results()[0]["status"] == "awaiting_confirmation"
    # The shop lists the change and asks for the yes; nothing is written yet.
    assert "cancel order #1038" in proposed.reply and "yes" in proposed.reply
    assert status(services, "1038") == "unfulfilled" and chat.pending()["proposal"]["tool"] == "cancel_order"

    model.script = [call("cancel_order", {"order": "#1038"}), say("Your order #1038 is cancelled.")]
    done = chat.say("yes").recorded.result
    assert model.tool_results()[0]["status"] == "done"
    assert done.reply.startswith("Done: order #1038 is cancelled") and done.usage.provider == "azure_openai"
    assert status(services, "1038") == "cancelled" and chat.pending() is None
    assert audited(services, "1038") == ["done"]


def test_a_model_acting_without_the_customers_yes_writes_nothing_and_its_claim_is_not_sent(services):
    model = use_model(services)
    chat = Chat(services)
    model.script = [call("cancel_order", {"order": "1038"}), say("I've cancelled order #1038 for you.")]
    first = chat.say(f"Cancel order 1038 please, {MARIE}").recorded.result
    assert "I've cancelled" not in first.reply and "Shall I go ahead?" in first.reply
    assert status(services, "1038") == "unfulfilled"

    # The customer hesitates; the model calls the tool again anyway and says it is done.
    model.script = [call("cancel_order", {"order": "1038"}), say("Done! Your order has been cancelled.")]
    second = chat.say("hmm, let me think about it").recorded.result
    assert model.tool_results()[0] == {"status": "refused", "reason": "not_confirmed", "order": "1038",
                                       "note": "Nothing was changed."}
    assert second.reply == "All right, I haven't changed anything."
    assert status(services, "1038") == "unfulfilled" and "done" not in audited(services, "1038")


def test_a_model_acting_on_another_customers_order_is_refused(services):
    model = use_model(services)
    chat = Chat(services)
    model.script = [call("cancel_order", {"order": "1039"}), say("I'm sorry, I can't change order #1039.")]
    stranger = chat.say(f"Cancel order 1039, my e-mail is {MARIE}").recorded.result
    assert model.tool_results()[0]["reason"] == "not_owner"
    assert stranger.reply == "I'm sorry, I can't change order #1039."
    # Marie proves order 1038 is hers; the conversation now acts for her alone, even with Valentina's e-mail.
    model.script = [call("cancel_order", {"order": "1038"}), say("Shall I?")]
    chat.say(f"Then cancel 1038, {MARIE}")
    model.script = [call("cancel_order", {"order": "1039"}), say("Done, order 1039 has been cancelled.")]
    other = chat.say(f"Also cancel order 1039, its e-mail is {VALENTINA}").recorded.result
    assert model.tool_results()[0]["reason"] == "other_customer"
    assert "1039 has been cancelled" not in other.reply and "only change the orders" in other.reply
    assert status(services, "1039") == "unfulfilled" and status(services, "1038") == "unfulfilled"
    assert audited(services, "1039") == ["refused:not_owner", "refused:other_customer"]


@pytest.mark.parametrize("name, arguments, reason, fields, order", [
    ("delete_all_orders", {"order": "1038"}, "unknown_tool", ["name"], None),
    ("cancel_order", '{"order": "1038", "reason": ', "invalid_arguments", ["arguments"], None),
    ("cancel_order", "[1038]", "invalid_arguments", ["arguments"], None),
    ("cancel_order", {"order": "1038", "confirmed": True}, "invalid_arguments", ["confirmed"], "1038"),
    ("refund", {"order": "1038", "amount": "-5"}, "invalid_arguments", ["amount"], "1038"),
    ("look_up_order", {"order": "1038; DROP"}, "invalid_arguments", ["order"], None),
])
def test_an_unknown_tool_or_malformed_arguments_are_refused_cleanly(services, name, arguments, reason, fields,
                                                                     order):
    model = use_model(services)
    chat = Chat(services)
    model.script = [call(name, arguments), say("Sorry, I couldn't do that.")]
    result = chat.say(f"Cancel order 1038 please, {MARIE}").recorded.result
    assert model.tool_results() == [{"status": "refused", "reason": reason, "note": "Nothing was changed.",
                                     "fields": fields, **({"order": order} if order else {})}]
    assert result.reply == "Sorry, I couldn't do that." and chat.pending() is None
    assert status(services, "1038") == "unfulfilled"


def test_a_model_can_look_up_only_an_order_the_customer_proved(services):
    model = use_model(services)
    chat = Chat(services)
    model.script = [call("look_up_order", {"order": "1038"}), say("Which item should I remove?")]
    chat.say("I want to remove the lavender soap from my order 1038")  # no e-mail yet
    assert model.tool_results() == [{"status": "refused", "reason": "not_authenticated", "order": "1038",
                                     "note": "Nothing was changed."}]
    model.script = [call("look_up_order", {"order": "1038"}), say("Which item should I remove?")]
    chat.say(f"It's {MARIE}: please remove the lavender soap from order 1038")
    [facts] = model.tool_results()
    assert facts["status"] == "ok" and facts["stage"] == "unfulfilled" and len(facts["line_items"]) == 4
    assert MARIE not in json.dumps(facts)  # the order's lines and figures, not its owner's details


def test_tokens_in_a_third_party_models_arguments_are_restored_before_the_guard(services):
    """Outside the perimeter the model sees tokens for the order number and the e-mail; its call names the order by
    its token, and the guard gets the real number."""
    model = use_model(services, LLM_PROVIDER_ORDER="third_party", THIRD_PARTY_LLM_BASE_URL="https://llm.example.net/v1",
                      THIRD_PARTY_LLM_API_KEY="recorded-test-key")
    chat = Chat(services)

    def cancel_by_token(body: dict) -> dict:
        asked = body["messages"][-1]["content"]
        assert "1038" not in asked and MARIE not in asked
        return call("cancel_order", {"order": re.findall(r"TOKEN_[0-9a-f-]{36}", asked)[0]})

    model.script = [cancel_by_token, say("Please confirm.")]
    result = chat.say(f"Please cancel order 1038, my email is {MARIE}").recorded.result
    assert "cancel order #1038" in result.reply and chat.pending()["proposal"]["order_number"] == "1038"
    sent = json.dumps([b["messages"] for b in model.bodies])
    assert "1038" not in sent and MARIE not in sent  # the tool's answer and the call went back tokenized too


def test_when_every_model_is_down_the_offline_dialogue_answers(services):
    model = use_model(services, LLM_MAX_ATTEMPTS="1")
    chat = Chat(services)

    def down(body: dict) -> dict:
        raise httpx2.ConnectError("model endpoint unreachable")

    model.script = [down]
    reply = chat.say("I want to cancel my order #1038").recorded.result.reply
    assert reply == "Before I change anything on order #1038, I need the e-mail address on the order."


def test_claims_of_a_change_are_recognised_in_each_language():
    for text in ("I've cancelled order #1038.", "Your refund has been issued", "J’ai annulé votre commande.",
                 "La commande a été annulée.", "He cancelado tu pedido.", "Tu pedido ha sido reembolsado."):
        assert function_calls.claims_action(text), text
    for text in ("I can cancel order #1038 once you confirm.", "Voulez-vous que j'annule la commande ?",
                 "¿Quieres que cancele el pedido?", "Order #1015 was cancelled on October 3."):
        assert not function_calls.claims_action(text), text
