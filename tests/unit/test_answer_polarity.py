"""The yes or no said in the customer's language before a quotation of a page written in another language."""

from __future__ import annotations

import functools

import pytest

from core.agents import response
from core.agents.answer_polarity import negate, negative, polarity_lead, yes_no_clauses
from core.models import Citation, Escalation, InputVerdict, IntentResult, ShopFacts
from core.rag.answer_units import rank_units
from tests.unit.test_answer_units import WordEmbedder

RANKER = functools.partial(rank_units, WordEmbedder())

PAYMENT = """# Payment methods

Online we accept Visa, Mastercard and PayPal.

We don't accept Klarna, Afterpay or other instalment plans.
"""


@pytest.mark.parametrize(("language", "clause", "answer"), [
    ("es", "aceptan pago en cuotas", "no aceptamos pago en cuotas"),
    ("es", "se puede pagar en cuotas", "no se puede pagar en cuotas"),
    ("es", "las tarjetas de regalo tienen fecha de vencimiento",
     "las tarjetas de regalo no tienen fecha de vencimiento"),
    ("es", "me pueden devolver el dinero", "no le podemos devolver el dinero"),
    ("es", "tienen envío gratis", "no tenemos envío gratis"),
    ("es", "hay algún cargo extra", "no hay ningún cargo extra"),
    ("es", "las galletas sin gluten son seguras", "las galletas sin gluten no son seguras"),  # not "sin no gluten"
    ("fr", "Est-ce que les cartes-cadeaux expirent", "les cartes-cadeaux n'expirent pas"),
    ("fr", "Vous livrez-tu au Québec", "nous ne livrons pas au Québec"),
    ("fr", "Vendez-vous des cartes-cadeaux", "nous ne vendons pas de cartes-cadeaux"),
    ("fr", "est-ce que je peux m'en servir pour payer mon abonnement",
     "vous ne pouvez pas vous en servir pour payer votre abonnement"),
    ("fr", "c'est gratuit", "ce n'est pas gratuit"),
])
def test_a_yes_no_question_is_negated_in_its_own_language(language, clause, answer):
    assert negate(clause, language) == answer


@pytest.mark.parametrize(("language", "clause"), [
    ("es", "el envío es gratis"),  # a singular subject: its verb is not found, no sentence is made up
    ("fr", "le colis arrive demain"),
    ("es", "algo asi"),
    ("es", "transferencia spei"),  # a noun first: no verb to negate
    ("es", "origen del merino"),
])
def test_a_clause_whose_verb_is_not_found_is_not_negated(language, clause):
    assert negate(clause, language) is None


def test_only_the_questions_a_yes_or_no_answers_are_taken():
    message = "¿Cuánto cuesta el envío? y si no, aceptan paypal? hola! ¿qué horario tienen?"
    assert yes_no_clauses(message, "es") == ["aceptan paypal"]
    assert yes_no_clauses("Combien coûte la livraison? Livrez-vous au Québec?", "fr") == ["Livrez-vous au Québec"]


@pytest.mark.parametrize(("text", "language", "expected"), [
    ("We don't accept Klarna.", "en", True),
    ("Gift cards never expire", "en", True),
    ("Can be used online and in the shop.", "en", False),
    ("Les cartes n'expirent jamais.", "fr", True),
    ("Aucun frais de retour.", "fr", True),
    ("Las tarjetas no vencen.", "es", True),
    ("Aceptamos PayPal.", "es", False),
])
def test_a_negation_word_of_the_text_s_language_makes_it_negative(text, language, expected):
    assert negative(text, language) is expected


def test_the_no_comes_only_when_the_closest_quoted_clause_is_negative():
    quotes = [("Online we accept Visa, Mastercard and PayPal. We don't accept Klarna, Afterpay or other "
               "instalment plans.", "en")]
    assert polarity_lead(RANKER, "aceptan Klarna o Afterpay?", quotes, "es") == "No, no aceptamos Klarna o Afterpay."
    assert polarity_lead(RANKER, "aceptan PayPal?", quotes, "es") == ""
    assert polarity_lead(RANKER, "¿cuánto cuesta con PayPal?", quotes, "es") == ""  # not a yes/no question


def _reply(message: str, language: str, page_language: str) -> str:
    citation = Citation(doc_id="policy-payment", title="Payment methods", score=0.9, passage=PAYMENT,
                        lang=page_language)
    draft = response.compose(message, verdict=InputVerdict(),
                             intent=IntentResult(label="payment_billing", confidence=0.9, language=language),
                             citations=[citation], facts=ShopFacts(), escalation=Escalation(), language=language,
                             documents={"policy-payment": PAYMENT}, ranker=RANKER)
    return draft.reply


def test_a_quotation_in_another_language_is_led_by_the_no_in_the_customer_s_words():
    reply = _reply("Bonjour, acceptez-vous Klarna ou Afterpay?", "fr", "en")
    assert reply.startswith("Non, nous n'acceptons pas Klarna ou Afterpay. Voici ce qu'indique notre page")
    assert "We don't accept Klarna" in reply


def test_a_page_in_the_customer_s_language_answers_alone():
    reply = _reply("do you accept Klarna or Afterpay?", "en", "en")
    assert not reply.startswith("No,")
    assert "We don't accept Klarna" in reply


def test_a_negative_clause_about_another_subject_gives_no_no():
    quotes = [("Gift cards can't be returned or refunded.", "en")]
    assert polarity_lead(RANKER, "aceptan PayPal?", quotes, "es") == ""


def test_the_yes_comes_when_the_closest_clause_grants_what_the_question_names_by_name():
    quotes = [("Online: PayPal, Visa and Mastercard. In the shop: cash and debit.", "en")]
    assert polarity_lead(RANKER, "Bonjour, est-ce que vous prenez PayPal?", quotes, "fr") == "Oui."
    assert polarity_lead(RANKER, "¿aceptan PayPal?", quotes, "es") == "Sí."


def test_a_positive_clause_sharing_no_name_with_the_question_gives_no_yes():
    quotes = [("We ship to Canada and the United States with Canada Post.", "en")]
    # "Mexico" is not granted by any clause: the quotation answers alone
    assert polarity_lead(RANKER, "¿hacen envíos a México?", quotes, "es") == ""
    quotes = [("Express shipping takes two days.", "en")]
    assert polarity_lead(RANKER, "vous offrez la livraison express?", quotes, "fr") == ""  # a common word, no name
