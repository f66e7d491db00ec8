"""The one language detector (core.language.detect): short messages, greetings and decisive marks."""

import pytest

from core import language


@pytest.mark.parametrize(("text", "expected"), [
    ("Hello!", "en"), ("Hi", "en"), ("thanks", "en"), ("yes please", "en"),
    ("merci", "fr"), ("bonjour", "fr"), ("oui", "fr"),
    ("gracias", "es"), ("hola", "es"), ("si", "es"),
])
def test_short_messages_and_greetings(text, expected):
    assert language.detect(text)[0] == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Where is my order? I placed it last week.", "en"),
    ("Est-ce que vous livrez au Nouveau-Brunswick?", "fr"),
    ("Quiero devolver el jabón que compré", "es"),
])
def test_sentences(text, expected):
    detected, confidence = language.detect(text)
    assert detected == expected and 0.5 <= confidence <= 1.0


def test_spanish_punctuation_settles_it():
    assert language.detect("¿Y el envío?") == ("es", 0.99)


def test_without_a_trained_classifier_the_function_words_decide(monkeypatch):
    monkeypatch.setattr(language, "_get_model", lambda: None)
    language.detect.cache_clear()
    try:
        assert language.detect("Pouvez-vous vérifier ma commande?")[0] == "fr"
        assert language.detect("1234 5678") == ("en", 0.0)
    finally:
        language.detect.cache_clear()
