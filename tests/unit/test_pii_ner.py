"""The learned name / address detector: what it adds to the rules, what it leaves alone, its training data."""

from __future__ import annotations

import json
import re

import pytest

from core.config import REPO_ROOT
from core.pii import Label, PiiGuard, detect
from core.pii.addresses import find_addresses, find_street_lines
from core.pii.ner import bio, find_learned, load_records, train
from core.pii.ner_features import tokenize
from core.pii.vaults.local import LocalVault

TOKEN = re.compile(r"TOKEN_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def covered(text: str, value: str, label: str) -> bool:
    start = text.index(value)
    return any(s.start <= start and start + len(value) <= s.end and s.label == label for s in detect(text, "en"))


@pytest.mark.parametrize("text,address", [
    ("Deliver to 88 Oak Hollow\nSpringfield, MO 65802", "88 Oak Hollow\nSpringfield, MO 65802"),
    ("can you update my address to 301 n. elm st apt 5, boise id 83702", "301 n. elm st apt 5, boise id 83702"),
])
def test_english_addresses_the_street_rules_miss_are_found_whole(text, address):
    assert not list(find_street_lines(text, "en"))  # no street type the rules know, or all in lower case
    assert covered(text, address, Label.ADDRESS)


@pytest.mark.parametrize("text,address", [
    ("Changez l'adresse pour le 4410, rue Des Érables, Sherbrooke (Québec) J1H 2K9 svp",
     "4410, rue Des Érables, Sherbrooke (Québec) J1H 2K9"),
    ("Please send it to P.O. Box 4410, Halifax, NS B3J 2K9.", "P.O. Box 4410, Halifax, NS B3J 2K9"),
    ("Envíenlo a Calle Olmo 14, 28004 Getafe (Madrid), gracias", "Calle Olmo 14, 28004 Getafe (Madrid)"),
])
def test_find_addresses_gives_the_rule_and_the_learned_addresses(text, address):
    assert [text[s.start:s.end] for s in find_addresses(text, None)] == [address]


@pytest.mark.parametrize("text,name", [
    ("Please forward this to Thandiwe Okonkwo-Reyes, she handles our orders.", "Thandiwe Okonkwo-Reyes"),
    ("Bonjour, c'est Gaëlle Thériault, ma commande n'est pas arrivée.", "Gaëlle Thériault"),
    ("Un saludo,\nMaría Fernanda Iturbide", "María Fernanda Iturbide"),
])
def test_the_learned_model_finds_names_on_its_own(text, name):
    start = text.index(name)
    assert any(s.start <= start and start + len(name) <= s.end and s.label == Label.PERSON
               for s in find_learned(text))


@pytest.mark.parametrize("text,address", [
    ("Please send it to P.O. Box 4410, Halifax, NS B3J 2K9.", "P.O. Box 4410, Halifax, NS B3J 2K9"),
    ("Envíenlo al Apartado de correos 2231, 41080 Sevilla por favor", "Apartado de correos 2231, 41080 Sevilla"),
])
def test_post_office_boxes_are_read_by_the_learned_model(text, address):
    assert any(text[s.start:s.end] == address and s.label == Label.ADDRESS for s in find_learned(text))


@pytest.mark.parametrize("text,name", [
    ("Thanks so much, the bar is lovely. Cheers, Priyanka", "Priyanka"),
    ("merci pour tout!\nCordialement\nGhislaine Tremblay", "Ghislaine Tremblay"),
])
def test_names_after_a_sign_off_are_read_by_the_learned_model(text, name):
    assert [text[s.start:s.end] for s in find_learned(text) if s.label == Label.PERSON] == [name]


@pytest.mark.parametrize("text,address", [
    ("Envíenlo a Calle Olmo 14, 28004 Getafe (Madrid), gracias", "Calle Olmo 14, 28004 Getafe (Madrid)"),
    ("Livrez au #12-480 boul. Fleury, Laval merci", "#12-480 boul. Fleury, Laval"),
])
def test_a_learned_address_keeps_its_closing_parenthesis_and_number_sign(text, address):
    assert [text[s.start:s.end] for s in find_learned(text) if s.label == Label.ADDRESS] == [address]


@pytest.mark.parametrize("text", [
    "Is the Lavender Fields soap back in stock?",
    "I will mark the box and hope it arrives in May.",
    "Do you ship to Toronto or only within Quebec?",
    "¿Envían a Monterrey o solo dentro de España? Quiero el jabón de lavanda.",
])
def test_products_places_and_common_words_are_not_names_or_addresses(text):
    assert not [s for s in detect(text, None) if s.label in (Label.PERSON, Label.ADDRESS)]


@pytest.mark.parametrize("text,value,label", [
    ("Carguen la diferencia a mi Mastercard 5555 5555 5555 4444, caduca 04/28.", "5555 5555 5555 4444", Label.CARD),
    ("UPS 1Z84X5E20395837421 stuck", "1Z84X5E20395837421", Label.TRACKING_NUMBER),
    ("me cobraron 1.250,00 € ayer", "1.250,00 €", Label.AMOUNT),
])
def test_a_validated_format_keeps_its_own_span_and_label(text, value, label):
    spans = {text[s.start:s.end]: s.label for s in detect(text, None)}
    assert spans.get(value) == label


def test_a_learned_address_becomes_one_token_and_comes_back(tmp_path):
    guard = PiiGuard(LocalVault(tmp_path / "v.sqlite", tmp_path / "v.key"))
    text = "Hi, please send the refund cheque to 88 Oak Hollow, Springfield, MO 65802. Thanks, Dolores"
    protected, session = guard.protect("demo", "c-ner", text)
    assert "Oak Hollow" not in protected and "Springfield" not in protected and "65802" not in protected
    assert TOKEN.search(protected)
    restored, report = guard.restore(session, f"We will post it to {TOKEN.search(protected).group()}.")
    assert "88 Oak Hollow, Springfield, MO 65802" in restored and not report.foreign


def test_bio_tags_follow_the_character_spans():
    text = "ship to 12 Main St, Ana Ruiz"
    tokens = tokenize(text)
    tags = bio(tokens, [[8, 18, "ADDRESS"], [20, 28, "PERSON"]])
    assert list(zip([t.text for t in tokens], tags, strict=True)) == [
        ("ship", "O"), ("to", "O"), ("12", "B-ADDR"), ("Main", "I-ADDR"), ("St", "I-ADDR"), (",", "O"),
        ("Ana", "B-PER"), ("Ruiz", "I-PER")]


def test_a_word_the_span_only_partly_covers_is_tagged_with_it():
    text = "It's for Lisa's birthday"
    tokens = tokenize(text)
    assert bio(tokens, [[9, 13, "PERSON"]])[[t.text for t in tokens].index("Lisa's")] == "B-PER"


def test_training_writes_a_model_that_tags_what_it_learned(tmp_path):
    import pycrfsuite

    records = [{"text": f"Thanks, {name}", "spans": [[8, 8 + len(name), "PERSON"]]}
               for name in ("Ana Ruiz", "Bo Chen", "Cyd Park", "Dee Lowe")] + [
               {"text": "Thanks, team", "spans": []}]
    path = tmp_path / "model.crfsuite"
    train(records, path)
    tagger = pycrfsuite.Tagger()
    tagger.open(str(path))
    from core.pii.ner_features import features
    text = "Thanks, Ana Ruiz"
    assert tagger.tag(features(text, tokenize(text))) == ["O", "O", "B-PER", "I-PER"]


def test_training_data_is_kept_apart_from_the_pii_eval_set_and_the_check_set():
    train_rows = load_records()
    dev_rows = load_records(REPO_ROOT / "knowledge" / "pii" / "ner-dev.jsonl")
    assert len(train_rows) > 5000 and len(dev_rows) > 500
    assert not {r["shape"] for r in train_rows} & {r["shape"] for r in dev_rows}
    eval_texts = set()
    for path in (REPO_ROOT / "knowledge" / "eval" / "pii").glob("*.jsonl"):
        eval_texts |= {json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()}
    assert not eval_texts & {r["text"] for r in train_rows}
    for row in train_rows:
        for start, end, label in row["spans"]:
            assert label in ("PERSON", "ADDRESS") and 0 <= start < end <= len(row["text"])
