"""The pages, the feedback route and the console API called with real func.HttpRequest objects: bad input is a
problem naming the field, every read stays within the route's shop, and the pages load nothing from elsewhere."""

from __future__ import annotations

import base64
import json

import azure.functions as func
import pytest

from core import conversations, feedback
from core.auth import issue_conversation_token, issue_token
from core.conversations import AgentMessage, TurnRecord

CARD = "4111 1111 1111 1111"


@pytest.fixture(scope="module")
def handlers(functions):
    return {f.get_function_name(): f.get_user_function() for f in functions}


def seed(store, tenant: str, conversation: str, *, language="en", ticket=None, handoff=None, day="2026-12-01"):
    def change(state):
        state.language = language
        state.created_at = state.updated_at = f"{day}T10:00:00.000+00:00"
        state.turns = [TurnRecord(turn_id=f"{conversation}-t1", at=f"{day}T10:00:00.000+00:00", user="Where is it?",
                                  reply="On its way.", intent="order_status", language=language)]
        state.ticket_id, state.handoff = ticket, handoff
        if ticket:
            state.agent_messages = [AgentMessage(id="m1", at=f"{day}T10:05:00.000+00:00", author="agent:Sam",
                                                 text="Sam here.")]
    conversations.update(store, tenant, conversation, change)


def request(method, url, *, route, headers=None, body=None, params=None):
    raw = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else b"")
    return func.HttpRequest(method, url, headers=headers or {}, route_params=route, params=params or {}, body=raw)


def problem_of(response):
    assert response.mimetype == "application/problem+json"
    body = json.loads(response.get_body())
    assert body["status"] == response.status_code and "Traceback" not in json.dumps(body)
    return body


def fields(response) -> set[str]:
    return {e["field"] for e in problem_of(response).get("errors", [])}


# -- feedback ------------------------------------------------------------------------------------------------------
def give(handlers, services, body, *, tenant="demo", conversation="conversation-one", turn="conversation-one-t1",
         token_tenant=None, token=True):
    headers = {}
    if token:
        headers["X-Conversation-Token"] = issue_conversation_token(services.settings, token_tenant or tenant,
                                                                   conversation)
    req = request("POST", "http://localhost/api/x", headers=headers, body=body,
                  route={"tenant": tenant, "conversation_id": conversation, "turn_id": turn})
    return handlers["turn_feedback"](req)


def test_feedback_is_stored_per_turn_and_a_second_vote_replaces_the_first(services, handlers):
    seed(services.store, "demo", "conversation-one")
    assert give(handlers, services, {"rating": "down"}).status_code == 201
    response = give(handlers, services, {"rating": "up", "comment": f"paid with {CARD}, thanks"})
    assert response.status_code == 201
    stored = feedback.for_conversation(services.store, "demo", "conversation-one")
    assert list(stored) == ["conversation-one-t1"]
    assert stored["conversation-one-t1"].rating == "up"
    assert "4111 1111 1111 1111" not in stored["conversation-one-t1"].comment
    assert stored["conversation-one-t1"].comment.endswith("1111, thanks")


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"rating": "meh"}, 422, "rating"),
    ({}, 422, "rating"),
    ({"rating": "up", "comment": "x" * 1001}, 422, "comment"),
    ({"rating": "up", "stars": 5}, 422, "stars"),
    ([1], 422, "body"),
    (b"{oops", 400, "body"),
])
def test_bad_feedback_is_a_named_problem(services, handlers, body, status, field):
    seed(services.store, "demo", "conversation-one")
    response = give(handlers, services, body)
    assert response.status_code == status
    assert field in fields(response)
    assert feedback.for_conversation(services.store, "demo", "conversation-one") == {}


def test_feedback_needs_the_conversation_and_one_of_its_turns(services, handlers):
    seed(services.store, "demo", "conversation-one")
    assert give(handlers, services, {"rating": "up"}, token=False).status_code == 401
    refused = give(handlers, services, {"rating": "up"}, token_tenant="northwind-tea")
    assert refused.status_code == 403
    unknown = give(handlers, services, {"rating": "up"}, turn="someone-elses-turn")
    assert unknown.status_code == 404 and fields(unknown) == {"turn_id"}
    # The same conversation id under another shop is not this conversation.
    assert give(handlers, services, {"rating": "up"}, tenant="northwind-tea").status_code == 404
    assert feedback.for_conversation(services.store, "demo", "conversation-one") == {}


# -- console API ---------------------------------------------------------------------------------------------------
def console(handlers, name, tenant="demo", *, params=None, headers=None, conversation=None):
    route = {"tenant": tenant, **({"conversation": conversation} if conversation else {})}
    return handlers[name](request("GET", "http://localhost/api/operator/x", route=route, params=params,
                                  headers=headers))


@pytest.fixture
def shop(services):
    seed(services.store, "demo", "open-handoff", ticket="T-1", handoff="waiting", day="2026-12-02")
    seed(services.store, "demo", "closed-handoff", ticket="T-2", handoff="closed", day="2026-12-01")
    seed(services.store, "demo", "french-answer", language="fr", day="2026-11-20")
    seed(services.store, "northwind-tea", "other-shop-one", ticket="T-9", handoff="waiting", day="2026-12-02")
    return services


def listed(response) -> list[str]:
    assert response.status_code == 200, response.get_body()
    return [c["conversation_id"] for c in json.loads(response.get_body())["conversations"]]


def test_the_conversation_list_filters_by_state_language_and_day(shop, handlers):
    assert listed(console(handlers, "operator_conversations")) == ["open-handoff", "closed-handoff", "french-answer"]
    assert listed(console(handlers, "operator_conversations", params={"status": "escalated"})) == [
        "open-handoff", "closed-handoff"]
    assert listed(console(handlers, "operator_conversations", params={"status": "open"})) == ["open-handoff"]
    assert listed(console(handlers, "operator_conversations", params={"language": "fr"})) == ["french-answer"]
    assert listed(console(handlers, "operator_conversations",
                          params={"since": "2026-12-01", "until": "2026-12-01"})) == ["closed-handoff"]
    assert listed(console(handlers, "operator_conversations", params={"limit": "1", "code": "the-key"})) == [
        "open-handoff"]


@pytest.mark.parametrize(("params", "field"), [
    ({"status": "pending"}, "status"), ({"language": "de"}, "language"), ({"since": "yesterday"}, "since"),
    ({"limit": "0"}, "limit"), ({"colour": "red"}, "colour")])
def test_bad_console_filters_are_named_problems(shop, handlers, params, field):
    response = console(handlers, "operator_conversations", params=params)
    assert response.status_code == 422 and fields(response) == {field}


def test_a_transcript_reads_one_shop_in_order_with_feedback(shop, handlers):
    feedback.record(shop.store, "demo", "open-handoff", "open-handoff-t1", feedback.FeedbackIn(rating="down"))
    response = console(handlers, "operator_transcript", conversation="open-handoff")
    assert response.status_code == 200
    body = json.loads(response.get_body())
    assert [m["author"] for m in body["messages"]] == ["customer", "assistant", "agent:Sam"]
    assert body["messages"][1]["feedback"]["rating"] == "down" and body["open"] is True
    missing = console(handlers, "operator_transcript", tenant="northwind-tea", conversation="open-handoff")
    assert missing.status_code == 404 and fields(missing) == {"conversation"}


def _principal(*roles: str) -> str:
    claims = [{"typ": "roles", "val": r} for r in roles]
    return base64.b64encode(json.dumps({"auth_typ": "aad", "claims": claims}).encode()).decode()


@pytest.mark.parametrize("name", ["operator_conversations", "operator_analytics"])
def test_the_console_api_refuses_an_operator_of_another_shop(shop, handlers, name):
    token = issue_token(shop.settings, "northwind-tea", scope="operator")
    assert console(handlers, name, headers={"authorization": f"Bearer {token}"}).status_code == 403
    demo_only = {"x-ms-client-principal": _principal("Operator.demo")}
    assert console(handlers, name, tenant="northwind-tea", headers=demo_only).status_code == 403
    assert console(handlers, name, headers=demo_only).status_code == 200
    assert console(handlers, name, tenant="no-such-shop").status_code == 404


def test_analytics_answers_the_days_asked_and_refuses_others(shop, handlers):
    body = json.loads(console(handlers, "operator_analytics", params={"days": "3"}).get_body())
    assert len(body["days"]) == 3 and body["daily_budget"] == 2.0  # the demo shop's tenant.json
    assert fields(console(handlers, "operator_analytics", params={"days": "365"})) == {"days"}


# -- pages ---------------------------------------------------------------------------------------------------------
def page(handlers, handler, **route):
    return handlers[handler](request("GET", "http://localhost/api/x", route=route))


def test_the_widget_is_a_page_of_a_known_shop_only(services, handlers):
    response = page(handlers, "chat_widget", tenant="demo")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_body().decode()
    assert 'data-tenant="demo"' in html and 'src="/api/assets/widget.js"' in html
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "http" not in html.replace("http-equiv", "")  # nothing from another origin
    unknown = page(handlers, "chat_widget", tenant="no-such-shop")
    assert unknown.status_code == 404 and fields(unknown) == {"tenant"}


def test_the_console_and_the_viewer_may_not_be_framed(handlers):
    for name in ("operator_console", "api_docs"):
        response = page(handlers, name)
        assert response.status_code == 200 and response.mimetype == "text/html"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "/api/assets/swagger-ui-bundle.js" in page(handlers, "api_docs").get_body().decode()


@pytest.mark.parametrize(("name", "media_type"), [("widget.js", "text/javascript"), ("pages.css", "text/css"),
                                                  ("embed.js", "text/javascript"),
                                                  ("swagger-ui-bundle.js", "text/javascript")])
def test_assets_are_served_with_their_media_type(handlers, name, media_type):
    response = page(handlers, "page_asset", name=name)
    assert response.status_code == 200 and response.mimetype == media_type and response.get_body()


@pytest.mark.parametrize("name", ["..%2F__init__.py", "../__init__.py", "__init__.py", "widget.html", "README.md",
                                  ".gitignore", "nothing.js"])
def test_only_the_pages_assets_are_served(handlers, name):
    response = page(handlers, "page_asset", name=name)
    assert response.status_code == 404 and fields(response) == {"name"}
