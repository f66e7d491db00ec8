"""What a chat caller may see and do, through the real chat handler and the real ``conversation_turn`` on the local
engine: conversation tokens (continue, read, poll), the three identity levels (anonymous, unverified, verified by
the shop's signature), idempotent first turns, the pending-turn status route, and operator scoping of agent
replies."""

from __future__ import annotations

import base64
import json
import time
from contextlib import asynccontextmanager

import azure.durable_functions as df
import azure.functions as func
import jwt

from core.auth import issue_conversation_token, issue_token
from core.tenants import TENANTS_COLLECTION, TENANTS_PARTITION, get_tenant
from tests.orchestration.test_conversation_turn import turn_hub

MARIE = {"email": "marie-eve.gagnon@example.com", "name": "Marie-Ève Gagnon"}
MARIE_ID = "7734943758578"
MARIE_TRACKING = "7023315339549921"
DEMO_SECRET = "local-demo-identity-secret"  # local.settings.sample.json CHAT_IDENTITY_SECRET_DEMO


def identity_token(secret: str = DEMO_SECRET, ttl: int = 600, **claims) -> str:
    now = int(time.time())
    return jwt.encode({"iat": now, "exp": now + ttl, **claims}, secret, algorithm="HS256")


class Desk:
    """The app's HTTP handlers, called as the Functions host calls them."""

    def __init__(self, functions, binding: str):
        self.handlers = {f.get_function_name(): f.get_user_function() for f in functions}
        self.binding = binding

    async def chat(self, body: dict, headers: dict | None = None, tenant: str = "demo") -> func.HttpResponse:
        req = func.HttpRequest("POST", f"http://localhost/api/tenants/{tenant}/chat", headers=headers or {},
                               route_params={"tenant": tenant}, body=json.dumps(body).encode())
        return await self.handlers["chat"](req=req, client=self.binding)

    async def turn(self, conversation: str, turn: str, headers: dict | None = None,
                   tenant: str = "demo") -> func.HttpResponse:
        req = func.HttpRequest("GET", "http://localhost/api/x", headers=headers or {}, body=b"",
                               route_params={"tenant": tenant, "conversation_id": conversation, "turn_id": turn})
        return await self.handlers["turn_status"](req=req, client=self.binding)

    def read(self, conversation: str, headers: dict | None = None, tenant: str = "demo") -> func.HttpResponse:
        req = func.HttpRequest("GET", "http://localhost/api/x", headers=headers or {}, body=b"",
                               route_params={"tenant": tenant, "conversation_id": conversation})
        return self.handlers["get_conversation"](req)

    async def agent_reply(self, conversation: str, headers: dict, tenant: str = "demo") -> func.HttpResponse:
        req = func.HttpRequest("POST", "http://localhost/api/x", headers=headers, route_params={
            "tenant": tenant, "conversation_id": conversation}, body=json.dumps({"message": "Hello from support",
                                                                                 "agent": "Sam"}).encode())
        return await self.handlers["agent_reply"](req=req, client=self.binding)


@asynccontextmanager
async def desk(functions, tmp_path):
    async with turn_hub(functions, tmp_path / "turns.sqlite") as (_, _, api):
        yield Desk(functions, api.binding_json())


def body_of(response: func.HttpResponse) -> dict:
    return json.loads(response.get_body())


def problem_field(response: func.HttpResponse) -> str | None:
    assert response.mimetype == "application/problem+json"
    errors = body_of(response).get("errors") or [{}]
    return errors[0].get("field")


def private(response: func.HttpResponse) -> bool:
    return (response.headers.get("Cache-Control") == "no-store"
            and response.headers.get("X-Content-Type-Options") == "nosniff")


def conv_token(response: func.HttpResponse) -> dict:
    return {"X-Conversation-Token": body_of(response)["conversation_token"]}


def set_tenant(services, tenant_id: str, **update) -> None:
    tenant = get_tenant(tenant_id, services.store).model_copy(update=update)
    services.store.put(TENANTS_PARTITION, TENANTS_COLLECTION, tenant_id, tenant.model_dump(mode="json"))


async def test_continuing_and_reading_a_conversation_need_its_token(services, functions, tmp_path):
    async with desk(functions, tmp_path) as d:
        first = await d.chat({"message": "What is your return policy?"})
        assert first.status_code == 200 and private(first)
        conversation = body_of(first)["conversation_id"]
        other = body_of(await d.chat({"message": "Do you ship to Canada?"}))

        bare = d.read(conversation)
        assert bare.status_code == 401 and problem_field(bare) == "X-Conversation-Token"
        wrong = d.read(conversation, {"X-Conversation-Token": other["conversation_token"]})
        assert wrong.status_code == 403
        forged = d.read(conversation, {"X-Conversation-Token": body_of(first)["conversation_token"][:-3] + "AAA"})
        assert forged.status_code == 401
        elsewhere = issue_conversation_token(services.settings, "northwind-tea", conversation)
        assert d.read(conversation, {"X-Conversation-Token": elsewhere}).status_code == 403
        read = d.read(conversation, conv_token(first))
        assert read.status_code == 200 and private(read)
        assert [t["user"] for t in body_of(read)["turns"]] == ["What is your return policy?"]

        assert (await d.chat({"message": "And for gifts?", "conversation_id": conversation})).status_code == 401
        again = await d.chat({"message": "And for gifts?", "conversation_id": conversation},
                             {"X-Conversation-Token": other["conversation_token"]})
        assert again.status_code == 403
        follow = await d.chat({"message": "And for gifts?", "conversation_id": conversation}, conv_token(first))
        assert follow.status_code == 200 and body_of(follow)["conversation_id"] == conversation


async def test_a_tenant_requiring_a_key_needs_it_to_read_and_audits_the_read(services, functions, tmp_path):
    from core import audit

    set_tenant(services, "demo", hipaa=True, require_chat_key=True, widget_keys=["pk_clinic_0123456789"])
    key = {"X-Tenant-Key": "pk_clinic_0123456789"}
    async with desk(functions, tmp_path) as d:
        assert (await d.chat({"message": "What is your return policy?"})).status_code == 401
        first = await d.chat({"message": "What is your return policy?"}, key)
        assert first.status_code == 200
        conversation = body_of(first)["conversation_id"]
        assert d.read(conversation, conv_token(first)).status_code == 401  # the token alone is not the credential
        assert d.read(conversation, {**key, **conv_token(first)}).status_code == 200
    reads = [r for r in audit.list_records(services.store, "demo")
             if r["action"] == "conversation.transcript_read"]
    assert len(reads) == 1 and reads[0]["resource"]["ref"] != conversation  # a reference, not the raw id


async def test_an_identity_in_the_body_is_unverified_and_lists_no_orders(services, functions, tmp_path):
    async with desk(functions, tmp_path) as d:
        claimed = await d.chat({"message": "Where is my order?", "customer": MARIE})
        assert claimed.status_code == 200
        assert "Order #" not in body_of(claimed)["reply"]
        # A session token minted for another customer does not make the body's identity true either.
        other = issue_token(services.settings, "demo", subject="7734806045216")
        hijack = await d.chat({"message": "Where is my order?", "customer": MARIE},
                              {"Authorization": f"Bearer {other}"})
        maries = [d.body for d in services.store.list("demo", "orders") if d.body.get("email") == MARIE["email"]]
        assert hijack.status_code == 200 and maries
        assert not [o for o in maries if f"#{o['order_number']}" in body_of(hijack)["reply"]]
        # The order number plus the order's e-mail is proof enough for that one order.
        proven = await d.chat({"message": "Where is my order #1001?", "customer": MARIE})
        assert MARIE_TRACKING in body_of(proven)["reply"]
        # Signed by the shop's back end: the customer's own orders are listed.
        signed = await d.chat({"message": "Where is my order?",
                               "identity_token": identity_token(external_id=MARIE_ID, **MARIE)})
        assert signed.status_code == 200 and "Order #1038" in body_of(signed)["reply"]  # her latest order


async def test_identity_tokens_that_are_not_the_shops_are_refused(services, functions, tmp_path):
    async with desk(functions, tmp_path) as d:
        for token in (identity_token(secret="not-the-shop-secret", **MARIE),
                      identity_token(ttl=-120, **MARIE),
                      identity_token(ttl=7 * 86400, **MARIE),
                      identity_token(name="Nobody"),
                      "not.a.jwt"):
            refused = await d.chat({"message": "Where is my order?", "identity_token": token})
            assert refused.status_code == 401 and problem_field(refused) == "identity_token", token
        unsigned = jwt.encode({"exp": int(time.time()) + 60, **MARIE}, key=None, algorithm="none")
        assert (await d.chat({"message": "hi", "identity_token": unsigned})).status_code == 401
        # Signed for another shop: northwind-tea's secret does not vouch for a demo customer.
        northwind = identity_token(secret="test-northwind-tea-identity-secret", **MARIE)
        assert (await d.chat({"message": "hi", "identity_token": northwind})).status_code == 401
        # An identity token and a session token naming different customers.
        session = issue_token(services.settings, "demo", subject="7734806045216")
        both = await d.chat({"message": "hi", "identity_token": identity_token(external_id=MARIE_ID, **MARIE)},
                            {"Authorization": f"Bearer {session}"})
        assert both.status_code == 403


async def test_a_verified_conversation_is_continued_only_by_the_same_customer(services, functions, tmp_path):
    signed = identity_token(external_id=MARIE_ID, **MARIE)
    async with desk(functions, tmp_path) as d:
        first = await d.chat({"message": "Where is my order?", "identity_token": signed})
        conversation, token = body_of(first)["conversation_id"], conv_token(first)
        attempts = {
            "no identity": {},
            "unverified": {"customer": MARIE},
            "another customer": {"identity_token": identity_token(external_id="7734806045216",
                                                                  email="julien.lavoie@example.net")},
            "partial": {"identity_token": identity_token(email=MARIE["email"])},
        }
        for label, extra in attempts.items():
            refused = await d.chat({"message": "And the tracking?", "conversation_id": conversation, **extra}, token)
            assert refused.status_code == 403, label
        same = await d.chat({"message": "And the tracking?", "conversation_id": conversation,
                             "identity_token": identity_token(external_id=MARIE_ID, **MARIE)}, token)
        assert same.status_code == 200


async def test_a_first_turn_sent_twice_with_one_idempotency_key_is_one_turn(services, functions, tmp_path):
    key = {"Idempotency-Key": "first-turn-key-0001"}
    async with desk(functions, tmp_path) as d:
        one = await d.chat({"message": "What is your return policy?"}, key)
        two = await d.chat({"message": "What is your return policy?"}, key)
        assert one.status_code == two.status_code == 200
        assert body_of(one)["conversation_id"] == body_of(two)["conversation_id"]
        assert body_of(one)["reply"] == body_of(two)["reply"]
        read = d.read(body_of(one)["conversation_id"], conv_token(one))
        assert len(body_of(read)["turns"]) == 1
        reused = await d.chat({"message": "Something else entirely"}, key)
        assert reused.status_code == 422 and problem_field(reused) == "Idempotency-Key"
        # Another caller's identical key starts its own conversation.
        session = issue_token(services.settings, "demo", subject="someone-else")
        theirs = await d.chat({"message": "What is your return policy?"}, {**key, "Authorization": f"Bearer {session}"})
        assert body_of(theirs)["conversation_id"] != body_of(one)["conversation_id"]


async def test_a_slow_turn_answers_202_with_a_scoped_status_route_and_no_keys(services, functions, tmp_path,
                                                                                monkeypatch):
    monkeypatch.setattr(services.settings, "CHAT_WAIT_TIMEOUT_MS", 0)
    async with desk(functions, tmp_path) as d:
        pending = await d.chat({"message": "What is your return policy?"})
        assert pending.status_code == 202 and private(pending)
        raw = pending.get_body().decode()
        assert "code=" not in raw and "runtime/webhooks" not in raw and "durabletask" not in raw
        body = body_of(pending)
        assert pending.headers["Location"] == body["status_url"]
        assert body["status_url"] == (f"/api/tenants/demo/conversations/{body['conversation_id']}"
                                      f"/turns/{body['turn_id']}")
        conversation, turn = body["conversation_id"], body["turn_id"]
        assert (await d.turn(conversation, turn)).status_code == 401
        other = issue_conversation_token(services.settings, "demo", "someoneelsesconversation")
        assert (await d.turn(conversation, turn, {"X-Conversation-Token": other})).status_code == 403
        assert (await d.turn(conversation, "no-such-turn-0001", conv_token(pending))).status_code == 404
        for _ in range(200):
            status = await d.turn(conversation, turn, conv_token(pending))
            if status.status_code == 200:
                break
            assert status.status_code == 202 and status.headers.get("Retry-After")
            await __import__("asyncio").sleep(0.02)
        assert status.status_code == 200 and "return" in body_of(status)["reply"].lower()


def _principal(*roles: str) -> dict:
    claims = [{"typ": "roles", "val": r} for r in roles] + [{"typ": "oid", "val": "0000-oid"}]
    return {"X-MS-CLIENT-PRINCIPAL": base64.b64encode(json.dumps({"claims": claims}).encode()).decode()}


async def test_agent_replies_follow_the_operator_tenant_rules(services, functions, tmp_path, monkeypatch):
    async with desk(functions, tmp_path) as d:
        conversation = body_of(await d.chat({"message": "What is your return policy?"}))["conversation_id"]
        northwind = issue_token(services.settings, "northwind-tea", scope="operator")
        refused = await d.agent_reply(conversation, {"Authorization": f"Bearer {northwind}"})
        assert refused.status_code == 403
        assert (await d.agent_reply(conversation, _principal("Operator.northwind-tea"))).status_code == 403
        monkeypatch.setattr(services.settings, "OPERATOR_AUTH", "entra")
        assert (await d.agent_reply(conversation, {})).status_code == 401  # the function key alone is not enough
        assert (await d.agent_reply(conversation, _principal("Operator.demo"))).status_code == 202
        monkeypatch.setattr(services.settings, "OPERATOR_AUTH", "function_key")
        demo = issue_token(services.settings, "demo", scope="operator")
        assert (await d.agent_reply(conversation, {"Authorization": f"Bearer {demo}"})).status_code == 202
        messages = services.store.get("demo", "conversations", conversation).body["agent_messages"]
        assert [m["text"] for m in messages] == ["Hello from support", "Hello from support"]


async def test_a_card_number_in_a_chat_message_never_reaches_the_turn(services, functions, tmp_path):
    """Masked by the chat endpoint itself: the Durable input, the stored turn and the reply hold the last 4 only."""
    async with desk(functions, tmp_path) as d:
        sent = await d.chat({"message": "I was charged twice on my card 4111 1111 1111 1111, please help"},
                            {"Idempotency-Key": "card-turn-0001"})
        assert sent.status_code == 200
        body = body_of(sent)
        conversation = body["conversation_id"]
        status = await df.DurableOrchestrationClient(d.binding).get_status(f"demo--{conversation}--card-turn-0001",
                                                                           show_input=True)
        stored = json.dumps(status.input_) + json.dumps(services.store.get("demo", "conversations",
                                                                           conversation).body)
        assert "4111 1111 1111 1111" not in stored and "**** **** **** 1111" in stored
        read = d.read(conversation, conv_token(sent))
        assert "4111 1111 1111 1111" not in read.get_body().decode()
