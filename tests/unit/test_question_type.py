"""Question type (greeting, thanks, goodbye, bot?, what can you do?, off-topic, or a question) and the replies it
gets from the response agent."""

from __future__ import annotations

import pytest

from core.agents import question_type
from core.agents.response import compose
from core.models import Citation, Escalation, InputVerdict, IntentResult, ShopFacts


@pytest.mark.parametrize(("text", "expected"), [
    ("Hello!", "greeting"), ("bonjour!", "greeting"), ("holaa buenas", "greeting"),
    ("thank you so much", "thanks"), ("merci beaucoup", "thanks"), ("muchas gracias", "thanks"),
    ("ok bye", "goodbye"), ("à la prochaine", "goodbye"), ("hasta luego", "goodbye"),
    ("are you a bot?", "bot"), ("est-ce un robot qui répond?", "bot"), ("¿eres humano?", "bot"),
    ("what can you help me with?", "capabilities"), ("que pouvez-vous faire?", "capabilities"),
    ("tell me a joke", "off_topic"), ("¿quién ganó el partido de anoche?", "off_topic"),
])
def test_small_talk_types(text, expected):
    assert question_type.small_talk(text) == expected


@pytest.mark.parametrize("text", [
    "hi, where is my order 1234?", "Bonjour, livrez-vous en Gaspésie?", "gracias, ¿y cuánto cuesta el envío?",
    "Is the mango soap in stock?", "what's your return policy for opened items?",
    "allo! êtes-vous ouverts aujourd'hui?",  # read as a greeting by the model: asking the hours is a question
])
def test_a_greeting_or_thanks_with_a_question_is_a_question(text):
    assert question_type.small_talk(text) is None


def _compose(message: str, language: str, citations: list[Citation] | None = None):
    return compose(message, verdict=InputVerdict(language=language), intent=IntentResult(
        label="general", confidence=0.9, language=language), citations=citations or [], facts=ShopFacts(),
        escalation=Escalation(), language=language, documents={})


SHIPPING = Citation(doc_id="shipping", title="Shipping", score=0.7, passage="Shipping to Canada costs 9.95 CAD.",
                    lang="en")


@pytest.mark.parametrize(("message", "language", "expected"), [
    ("Hello!", "en", "How can I help"), ("Allo!", "fr", "Comment puis-je vous aider"),
    ("gracias!!", "es", "Con gusto"), ("are you a bot?", "en", "virtual assistant"),
])
def test_small_talk_gets_a_reply_in_the_customers_language_not_a_page(message, language, expected):
    draft = _compose(message, language, [SHIPPING])
    assert expected in draft.reply and "9.95" not in draft.reply
    assert draft.grounded  # answered: the conversation does not count it as an unanswered turn


def test_off_topic_is_unanswered_unless_a_page_answers():
    draft = _compose("tell me a joke", "en")
    assert "only help with questions about our shop" in draft.reply and not draft.grounded
    with_page = _compose("tell me a joke", "en", [SHIPPING])
    assert "only help with questions" not in with_page.reply
