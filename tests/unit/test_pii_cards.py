"""Card numbers masked to their last four digits wherever customer or agent text is kept or sent on, and every other
number (orders, phones, tracking numbers, dates, ids) left as written."""

from __future__ import annotations

import gzip
import json
import re
from datetime import date

import pytest

from core import conversations
from core.conversations import AgentMessage, ConversationState, TurnRecord, masked_document
from core.handoff import AgentReply, relay_agent_reply
from core.pii.cards import find_card_numbers, is_card_number, mask_card_numbers
from core.stores.memory_store import MemoryBlobStore, MemoryDocumentStore

# Test numbers the networks publish (all Luhn-valid).
VISA, MASTERCARD, AMEX = "4242424242424242", "5555555555554444", "378282246310005"


def digit_runs(text: str) -> list[str]:
    """Every number in the text with its spaces and dashes removed."""
    return [re.sub(r"[ -]", "", m) for m in re.findall(r"\d(?:[ -]?\d)*", text)]


@pytest.mark.parametrize("text, expected", [
    ("My card is 4242 4242 4242 4242, can you check?", "My card is **** **** **** 4242, can you check?"),
    ("Ma carte 5555-5555-5555-4444 a été débitée deux fois.", "Ma carte ****-****-****-4444 a été débitée deux fois."),
    ("Mi tarjeta es 378282246310005 y no funciona", "Mi tarjeta es ***********0005 y no funciona"),
    ("amex 3782 822463 10005", "amex **** ****** *0005"),
    ("Discover 6011111111111117 JCB 3530111333300000 Diners 30569309025904",
     "Discover ************1117 JCB ************0000 Diners **********5904"),
    ("Mastercard 2-series 2223003122003222, UnionPay 6200000000000005",
     "Mastercard 2-series ************3222, UnionPay ************0005"),
    # Expiry and CVV after it, an order number before it: only the card's own groups are masked.
    ("4242 4242 4242 4242 12 27 123", "**** **** **** 4242 12 27 123"),
    ("card 4111-1111-1111-1111 exp 12/27 cvc 123", "card ****-****-****-1111 exp 12/27 cvc 123"),
    ("order 1001 4242 4242 4242 4242.", "order 1001 **** **** **** 4242."),
    ("(4242424242424242)", "(************4242)"),
])
def test_card_numbers_keep_only_their_last_four_digits(text, expected):
    masked = mask_card_numbers(text)
    assert masked == expected
    assert not any(len(run) >= 13 for run in digit_runs(masked))
    assert mask_card_numbers(masked) == masked  # masking twice changes nothing


@pytest.mark.parametrize("text", [
    "Where is order #1001? Commande 1002, pedido 100234.",
    "Call me at +1 514-555-0199 or (514) 555-0199; en France 06 12 34 56 78, en España +34 612 345 678.",
    # The demo shop's own Canada Post tracking numbers, Luhn-valid but not a network's prefix.
    "Tracking 7023154340160590, suivi 7023226138184519, seguimiento 7316485040696277.",
    "USPS 9400111362493636298221, UPS 1Z4V85W76621992094, Postes Canada LM326497121CA.",
    "Delivered 2026-11-21, le 21/11/2026, el 20261121 a las 10:00:00.",
    "4242 4242 4242 4241 fails the Luhn check",
    "ids 47d763e4242424242424242d1eda921 and 123e4567-e89b-12d3-a456-426614174000 and ticket-4242424242424242",
    "Shopify order 6102054434467, variant 47520360277265, gid://shopify/Order/4242424242424242",
    "a total of 4242424242424242.50 and a longer run 42424242424242424242",
    "short text",
    "",
])
def test_other_numbers_are_left_as_written(text):
    assert mask_card_numbers(text) == text
    assert list(find_card_numbers(text)) == []


def test_text_without_a_card_number_is_returned_as_is():
    text = "Hello, I ordered the lavender soap on 2026-11-21 (order #1001) and it has not arrived yet. " * 40
    assert mask_card_numbers(text) is text


def test_a_card_number_is_a_networks_prefix_and_length_with_a_valid_luhn_digit():
    assert is_card_number(VISA) and is_card_number(MASTERCARD) and is_card_number(AMEX)
    assert not is_card_number("4242424242424241")  # Luhn
    assert not is_card_number("7023154340160590")  # Luhn-valid, no network starts with 7
    assert not is_card_number("42424242424242")  # Visa's prefix, but Visa cards have 13, 16 or 19 digits
    assert not is_card_number("424242424242")  # too short


def test_turn_records_and_agent_messages_never_hold_a_card_number():
    record = TurnRecord(turn_id="t1", at="2026-11-21T10:00:00Z", user=f"card {VISA}", reply="ok", intent="general",
                        language="en")
    assert record.user == "card ************4242"
    record.reply = f"I see {MASTERCARD}"  # a later change is masked too
    assert record.reply == "I see ************4444"
    message = AgentMessage(id="m1", at="x", author="agent:sam", text=f"refunded to {AMEX}")
    assert message.text == "refunded to ***********0005"


def test_a_stored_conversation_is_written_masked_and_one_stored_before_is_read_masked():
    store = MemoryDocumentStore()

    def mutate(conv: ConversationState) -> None:
        conv.turns.append(TurnRecord(turn_id="t1", at="2026-11-21T10:00:00Z", user=f"my card {VISA}", reply="ok",
                                     intent="payment_billing", language="en"))

    conversations.update(store, "demo", "conv-1", mutate)
    stored = json.dumps(store.get("demo", "conversations", "conv-1").body)
    assert VISA not in stored and "************4242" in stored

    # A document written before card numbers were masked: served and rewritten without them.
    legacy = {"tenant_id": "demo", "conversation_id": "conv-2",
              "turns": [{"turn_id": "t1", "at": "2026-11-21T10:00:00Z", "user": f"card {VISA}", "reply": "ok",
                         "intent": "general", "language": "en"}],
              "agent_messages": [{"id": "m1", "at": "x", "author": "agent:sam", "text": f"card {MASTERCARD}"}]}
    store.put("demo", "conversations", "conv-2", legacy)
    loaded = conversations.load(store, "demo", "conv-2")
    assert loaded.turns[0].user == "card ************4242" and loaded.agent_messages[0].text.endswith("4444")
    conversations.update(store, "demo", "conv-2", lambda conv: None)
    assert VISA not in json.dumps(store.get("demo", "conversations", "conv-2").body)
    archived = json.dumps(masked_document(legacy))
    assert VISA not in archived and MASTERCARD not in archived and "conv-2" in archived


def test_an_agent_reply_is_masked_when_read_and_relayed_masked():
    reply = AgentReply.model_validate({"message": f"Refund sent to the card {VISA}.", "agent": "Sam"})
    assert reply.message == "Refund sent to the card ************4242."
    assert VISA not in json.dumps(reply.model_dump(mode="json"))  # what the route raises as the Durable event
    store = MemoryDocumentStore()
    state = relay_agent_reply(store, "demo", "conv-3", None, AgentReply.model_construct(
        message=f"card {VISA}", agent="Sam", close_ticket=False), "m1")  # even a reply built without validation
    assert state.agent_messages[0].text == "card ************4242"
    assert VISA not in json.dumps(store.get("demo", "conversations", "conv-3").body)


def test_tickets_pushed_to_a_desk_and_their_comments_never_carry_a_card_number():
    from core.integrations.ports import TicketRequest
    from core.integrations.sandbox import SandboxTicketDesk

    store = MemoryDocumentStore()
    desk = SandboxTicketDesk(store)
    ref = desk.create_ticket("demo", TicketRequest(subject="Charged twice", description=f"user: my card {VISA}"))
    desk.update_ticket("demo", ref.id, comment=f"customer wrote {MASTERCARD} again")
    stored = json.dumps(store.get("demo", "outbox", ref.id).body)
    assert VISA not in stored and MASTERCARD not in stored
    assert "************4242" in stored and "************4444" in stored


def test_a_zendesk_comment_is_masked_where_the_webhook_reads_it():
    from core.events import webhooks

    raw = json.dumps({"id": "evt-card", "type": "zen:event-type:ticket.comment_added", "detail": {"id": "42"},
                      "event": {"comment": {"body": f"Your card {VISA} was refunded", "is_public": True,
                                            "author": {"is_staff": True, "name": "Sam"}}}})
    events = webhooks.zendesk_events("demo", {}, raw.encode()).events
    assert events[0].data["comment"]["body"] == "Your card ************4242 was refunded"


def test_conversation_archives_carry_no_card_number_even_from_documents_stored_before():
    from core.exports import export_tenant

    store, blobs = MemoryDocumentStore(), MemoryBlobStore()
    store.put("t1", "conversations", "c1", {
        "tenant_id": "t1", "conversation_id": "c1", "updated_at": "2026-01-10T10:00:00Z",
        "turns": [{"turn_id": "a", "at": "2026-01-10T10:00:00Z", "user": f"card {VISA} please", "reply": "ok",
                   "intent": "payment_billing", "language": "en"}]})
    report = export_tenant(store, blobs, "t1", "2026-01-10", retention_days=365, key=b"k" * 32,
                           today=date(2026, 1, 11))
    archived = gzip.decompress(blobs.get_bytes("t1", report.archive_path)).decode()
    assert VISA not in archived and "card ************4242 please" in archived
