"""The dialogue-act and return-reason models: what a message does in the order-action dialogue, and why an item goes
back, in en / fr-CA / es, as the dialogue's words read them."""

from __future__ import annotations

from collections import Counter

import pytest

from core.actions import words
from core.agents import dialogue_act


@pytest.mark.parametrize("folder, minimum", [(dialogue_act.ACTS_DIR, 120), (dialogue_act.REASONS_DIR, 150)])
def test_every_label_has_examples_in_every_language(folder, minimum):
    rows = dialogue_act.training_rows(folder)
    counts = Counter((r["lang"], r["label"]) for r in rows)
    labels = {r["label"] for r in rows}
    assert {r["lang"] for r in rows} == {"en", "fr-CA", "es"}
    assert all(counts[(lang, label)] >= minimum for lang in ("en", "fr-CA", "es") for label in labels)


def test_the_model_files_are_named_by_their_training_data():
    assert dialogue_act.model_file().startswith("dialogue-act-model-")
    assert dialogue_act.reason_model_file().startswith("return-reason-model-")
    assert dialogue_act.model_file().split("-")[-1] != dialogue_act.reason_model_file().split("-")[-1]


@pytest.mark.parametrize(("message", "act"), [
    ("could you please cancel the order I placed this morning", "request"),
    ("Je voudrais qu'on me rembourse la théière", "request"),
    ("Necesito que cancelen mi compra de ayer", "request"),
    ("how many days do I have to send something back?", "question"),
    ("Est-ce que les retours sont gratuits?", "question"),
    ("¿Cuánto tarda en llegar el reembolso?", "question"),
    ("yes please do", "confirm"), ("oui, allez-y", "confirm"), ("sí, adelante", "confirm"),
    ("no, leave it", "decline"), ("non merci", "decline"), ("no, mejor no", "decline"),
    ("my email is jo@example.com", "other"), ("On retourne à Québec en mai, livrez-vous là?", "other"),
    ("We are returning to Regina next week, will it arrive first?", "other"),
])
def test_what_a_message_does(message, act):
    assert dialogue_act.classify(message)[0] == act


@pytest.mark.parametrize(("message", "reason"), [
    ("I'd like to return the kettle, it arrived cracked", "defective"),
    ("Je veux retourner le chandail, il est trop petit", "size_too_small"),
    ("Quiero devolver el pantalón, me queda grande", "size_too_large"),
    ("You sent me the wrong item, I want to return it", "wrong_item"),
    ("Je veux retourner la lampe, j'ai changé d'avis", "unwanted"),
])
def test_the_reason_a_return_gives(message, reason):
    assert words.return_reason(message) == reason


@pytest.mark.parametrize("message", ["Please start a return for order 1027", "Je veux retourner la commande 1027",
                                     "Quiero devolver el pedido 1027"])
def test_a_return_without_a_reason_records_none(message):
    assert words.return_reason(message) is None


@pytest.mark.parametrize("message", ["no", "non merci", "no gracias", "never mind", "laissez faire"])
def test_a_no_in_each_language_declines(message):
    assert words.declines(message) and not words.confirms(message)


def test_a_yes_that_asks_something_else_is_no_yes():
    assert not words.confirms("yes, and when will it arrive?")
