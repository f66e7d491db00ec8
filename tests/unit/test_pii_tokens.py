"""Tokenizer / detokenizer: stable tokens per conversation, lenient restoring, foreign tokens reported."""

from __future__ import annotations

import re

import pytest

from core.pii import TokenMap, detect
from core.pii.tokens import normal_key
from tests.evals.pii import known_for
from tests.evals.pii_dataset import HOLDOUT, HOLDOUT2, LANGUAGES, load, load_customers

TOKEN = re.compile(r"TOKEN_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def tokenize(mapping: TokenMap, text: str, lang: str = "en") -> str:
    return mapping.tokenize(text, detect(text, lang))


def test_tokens_are_random_uuid4_and_stable_for_one_value_in_any_form():
    mapping = TokenMap("demo", "conv-1")
    first = tokenize(mapping, "Call me at 514-555-0117 or write Marie.Tremblay@Example.com")
    second = tokenize(mapping, "again: +1 (514) 555 0117, marie.tremblay@example.com")
    tokens_1, tokens_2 = TOKEN.findall(first), TOKEN.findall(second)
    assert len(tokens_1) == 2 and tokens_1 == tokens_2
    assert "514" not in first + second and "tremblay" not in (first + second).lower()


def test_the_same_value_gets_different_tokens_in_another_conversation():
    a, b = TokenMap("demo", "conv-a"), TokenMap("demo", "conv-b")
    assert TOKEN.findall(tokenize(a, "email a.b@example.com")) != TOKEN.findall(tokenize(b, "email a.b@example.com"))


@pytest.mark.parametrize("label,left,right", [
    ("PERSON", "Marie-Ève Gagnon", "marie eve GAGNON"),
    ("PHONE", "+15145550117", "(514) 555-0117"),
    ("ADDRESS", "2217 rue Beaubien Est, app. 3", "2217 Rue Beaubien E app 3"),
    ("TRACKING_NUMBER", "7023 3153 3954 9921", "7023315339549921"),
    ("AMOUNT", "$1,250.00", "1250.00"),
])
def test_normal_keys_join_spellings_of_one_value(label, left, right):
    assert normal_key(label, left) == normal_key(label, right)


@pytest.mark.parametrize("echo", [
    lambda t: t,
    lambda t: t.lower(),
    lambda t: t.replace("TOKEN_", "TOKEN-"),
    lambda t: t.replace("TOKEN_", "token "),
    lambda t: t[:14] + " " + t[14:],
    lambda t: f'"{t}"',
    lambda t: f"[{t}]",
    lambda t: f"({t.upper()})",
    lambda t: t.replace("-", ""),
])
def test_echoed_tokens_are_restored_whatever_the_model_did_to_them(echo):
    mapping = TokenMap("demo", "conv-1")
    token = TOKEN.findall(tokenize(mapping, "my name is Rebecca Holloway"))[0]
    restored, report = mapping.restore(f"Hello {echo(token)}, how can I help?")
    assert "Rebecca Holloway" in restored and "TOKEN" not in restored.upper()
    assert report.restored == 1 and report.ok


def test_a_token_from_another_conversation_or_tenant_is_never_restored_and_is_reported():
    mine, other_conv, other_tenant = TokenMap("demo", "c1"), TokenMap("demo", "c2"), TokenMap("northwind-tea", "c1")
    tokenize(mine, "I'm Emily Chen")
    foreign_conv = TOKEN.findall(tokenize(other_conv, "I'm Daniel Okafor"))[0]
    foreign_tenant = TOKEN.findall(tokenize(other_tenant, "I'm Lucía Fernández"))[0]
    restored, report = mine.restore(f"Ask {foreign_conv} and {foreign_tenant.lower()}")
    assert "Daniel" not in restored and "Lucía" not in restored
    assert report.foreign == [foreign_conv, foreign_tenant.lower()] and not report.ok and report.restored == 0


def test_map_survives_serialisation_with_all_entries():
    mapping = TokenMap("demo", "c1")
    text = tokenize(mapping, "Emily Chen, 416-555-0177, order #1003")
    again = TokenMap.from_entries("demo", "c1", mapping.to_entries())
    assert again.restore(text)[0] == "Emily Chen, 416-555-0177, order #1003"


@pytest.mark.parametrize("prefix", ["", HOLDOUT, HOLDOUT2])
def test_round_trip_restores_every_message_of_the_eval_corpus(prefix):
    customers = load_customers()
    for lang in LANGUAGES:
        for record in load(lang, prefix):
            mapping = TokenMap("eval", record["id"])
            spans = detect(record["text"], lang, known_for(record, customers))
            tokenized = mapping.tokenize(record["text"], spans)
            restored, report = mapping.restore(tokenized)
            assert restored == record["text"] and report.ok, record["id"]
            assert report.restored == len(spans)
