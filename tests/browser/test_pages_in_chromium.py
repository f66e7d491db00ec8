"""The customer's chat widget and the operator console in Debian's Chromium against the running local host: a
customer chats in English and in French, sees citations, rates a reply, escalates and reads the reply a person types
in the console; an operator signs in, finds the conversation, reads its trace and replays a dead letter."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.integration.hosting import key_header

pytestmark = pytest.mark.integration
KEY = key_header("LOCAL_FUNCTION_KEY")["x-functions-key"]


def ask(page: Page, text: str, replies_before: int):
    """Type a message as a customer does (Enter sends) and wait for the reply bubble."""
    page.get_by_label("Your message").fill(text)
    page.get_by_label("Your message").press("Enter")
    reply = page.locator(".msg.assistant").nth(replies_before)
    expect(reply).to_be_visible(timeout=60_000)
    return reply


def conversation_id(page: Page) -> str:
    return page.evaluate("JSON.parse(sessionStorage.getItem('shopdesk:demo')).conversationId")


def sign_in(page: Page, base: str, key: str = KEY) -> None:
    page.goto(f"{base}/api/console")
    page.get_by_label("Shop (tenant id)").fill("demo")
    page.get_by_label("Function key").fill(key)
    page.get_by_role("button", name="Sign in").click()


def test_a_customer_chats_in_english_and_french_sees_citations_and_rates_a_reply(app_host, new_page):
    page = new_page(390, 844)  # a phone's width
    page.goto(f"{app_host.base}/api/tenants/demo/widget")
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    reply = ask(page, "Do you ship to Canada?", 0)
    expect(reply.locator(".who")).to_have_attribute("data-language", "en")
    link = reply.locator(".citations a").first
    expect(link).to_be_visible()
    assert re.match(r"^https?://", link.get_attribute("href") or "")

    reply.get_by_role("button", name="Helpful", exact=True).click()
    expect(reply.get_by_role("button", name="Helpful", exact=True)).to_have_attribute("aria-pressed", "true")
    reply.get_by_label("Comment (optional)").fill("Clear answer")
    reply.get_by_role("button", name="Send", exact=True).click()
    expect(reply.get_by_label("Comment (optional)")).to_be_hidden()

    french = new_page(390, 844)
    french.goto(f"{app_host.base}/api/tenants/demo/widget")
    reply = ask(french, "Est-ce que vous livrez au Canada ? Quels sont les délais de livraison ?", 0)
    expect(reply.locator(".who")).to_have_attribute("data-language", "fr")
    expect(reply).to_have_attribute("lang", "fr")
    expect(reply.locator(".citations a").first).to_be_visible()
    # The widget speaks the reply's language.
    expect(reply.get_by_role("button", name="Utile", exact=True)).to_be_visible()

    console = new_page()
    sign_in(console, app_host.base)
    console.get_by_role("button", name="Open conversation " + conversation_id(page)).click()
    expect(console.locator("#conversation .transcript")).to_contain_text("Do you ship to Canada?")
    expect(console.locator("#conversation .transcript")).to_contain_text("Clear answer")  # the feedback


def test_a_customer_escalates_and_reads_the_reply_typed_in_the_console(app_host, new_page):
    widget = new_page(390, 844)
    widget.goto(f"{app_host.base}/api/tenants/demo/widget")
    ask(widget, "I want to talk to a human about my order", 0)
    expect(widget.locator("#handoff")).to_contain_text("A person will answer here")
    conversation = conversation_id(widget)

    console = new_page()
    sign_in(console, app_host.base)
    console.get_by_role("button", name="Hand-offs").click()
    console.locator(f"#inbox button[data-conversation='{conversation}']").click()
    expect(console.locator("#handoff-detail .transcript")).to_contain_text("talk to a human")
    console.get_by_label("Your name").fill("Sam")
    console.get_by_label("Reply to the customer").fill("Hi, Sam from the workshop here: your parcel left today.")
    console.get_by_role("button", name="Send reply").click()
    expect(console.locator("#status")).to_contain_text("Reply sent")

    agent = widget.locator(".msg.agent")
    expect(agent).to_contain_text("your parcel left today", timeout=30_000)  # polled from the conversation
    expect(agent.locator(".who")).to_contain_text("Sam")


def _dead_letter(app_host) -> str:
    """A dead letter in the host's store, as the bus leaves one after a handler kept failing."""
    from core.events.catalog import new_event
    from core.events.ledger import Ledger
    from core.stores.sqlite_store import SqliteDocumentStore

    store = SqliteDocumentStore(Path(app_host.env["DATA_DIR"]) / "documents.sqlite")
    event = new_event("demo", "shopify.orders.paid", 1040,
                      {"id": 5, "order_number": 1040, "email": "a@example.com"}, event_id=uuid.uuid4().hex)
    Ledger(store).dead_letter("analytics", event, "TimeoutError")
    return f"analytics--{event.id}"


def test_an_operator_signs_in_finds_a_conversation_reads_its_trace_and_replays_a_dead_letter(app_host, new_page):
    widget = new_page()
    widget.goto(f"{app_host.base}/api/tenants/demo/widget")
    ask(widget, "Is the organic mango soap in stock?", 0)
    conversation = conversation_id(widget)
    letter = _dead_letter(app_host)

    console = new_page()
    sign_in(console, app_host.base, key="wrong-key")
    expect(console.locator("#sign-in-error")).to_contain_text("Sign-in refused")
    sign_in(console, app_host.base)
    console.get_by_label("Language").select_option("en")
    console.get_by_role("button", name="Apply").click()
    console.get_by_role("button", name="Open conversation " + conversation).click()
    expect(console.locator("#conversation .transcript")).to_contain_text("organic mango soap")
    console.get_by_role("button", name="Show trace").click()
    timeline = console.locator("#trace .timeline").first
    expect(timeline).to_contain_text("classify_intent")
    expect(timeline).to_contain_text("compose_response")
    expect(timeline.locator(".bar").first).to_be_visible()

    console.get_by_role("button", name="Dead letters").click()
    row = console.locator(f"tr[data-letter='{letter}']")
    expect(row).to_contain_text("TimeoutError")
    row.get_by_role("button", name=re.compile("^Replay")).click()
    expect(console.locator("#status")).to_contain_text("Replayed 1 event")
    expect(row).to_have_count(0)

    console.get_by_role("button", name="Analytics").click()
    expect(console.locator("#charts figure")).to_have_count(7)
    expect(console.locator("#charts")).to_contain_text("Resolution rate")


def test_the_api_viewer_renders_every_path_of_the_description_from_the_app(app_host, new_page):
    page = new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(app_host.base) else None)
    page.goto(f"{app_host.base}/api/docs")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/tenants/{tenant}/widget" in p for p in paths) and any("/console" in p for p in paths)
    assert outside == []  # nothing loaded from another origin
