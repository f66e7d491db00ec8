"""What the order dialogue tells from the order's record: why a cancelled order was cancelled and what was refunded,
and that the listed order can no longer be cancelled once part of it shipped."""

from __future__ import annotations

from core.models import CustomerRef
from tests.unit.test_order_action_dialogue import Chat, status

OLIVIER, PRIYA = "olivier.cote@example.com", "priya.sharma@example.net"


def test_a_cancelled_order_says_why_and_what_was_refunded(services):
    chat = Chat(services)
    result = chat.say(f"Why is my order 1036 cancelled?? my email is {OLIVIER}").recorded.result
    assert result.reply.startswith("Order #1036 is cancelled")
    assert "wanted the Whipped Mango Body Butter in a larger size" in result.reply  # the shop's note
    assert "Refunded: 78.13 CAD on November 19, 2026." in result.reply
    assert result.guardrail.reasons == []  # the output critic finds the figures grounded


def test_a_cancelled_order_in_french_gives_its_refund_in_french(services):
    reply = Chat(services, "fr").reply(f"Pourquoi ma commande 1036 est annulée? mon courriel est {OLIVIER}")
    assert "Remboursement : 78.13 CAD le 19 novembre 2026." in reply


def test_the_listed_order_of_a_signed_in_customer_is_the_one_they_would_rather_cancel(services):
    chat = Chat(services, customer=CustomerRef(email=PRIYA))
    assert "#1026" in chat.reply("where is my order?")
    reply = chat.reply("In that case I'd rather cancel it, I don't need it anymore")
    assert "#1026" in reply and "can no longer be cancelled" in reply
    assert status(services, "1026") == "partially_shipped"


def test_my_order_is_the_signed_in_customers_only_order_the_change_fits(services):
    # Of Sophie's recent orders only #1040 has not shipped: "my order" can only mean it for an address change.
    chat = Chat(services, customer=CustomerRef(email="sophie.bouchard@example.org"))
    reply = chat.reply("hi, I need to change the shipping address on my order, I'm moving this weekend")
    assert "#1040" in reply and "Which order" not in reply
    assert status(services, "1040") == "unfulfilled"  # nothing changes before the customer confirms


def test_my_order_is_asked_for_when_none_of_the_customers_orders_fits(services):
    # Every recent order of Emily's has shipped: none can be cancelled, so the desk does not pick one.
    chat = Chat(services, customer=CustomerRef(email="emily.chen@example.com"))
    reply = chat.reply("please cancel my order")
    assert reply.startswith("Which order is it?")
