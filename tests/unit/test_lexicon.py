"""The agents' data files (core/agents/data): every template speaks en / fr / es with the same placeholders, every
lexicon compiles, and the modules read their phrases from there."""

import re

import pytest

from core import lexicon
from core.agents import escalation, intent
from core.events import waitlist
from core.lexicon import Templates

DATA_FILES = sorted(path.stem for path in lexicon.DATA_DIR.glob("*.json"))


def _lexicon_entries(data: dict):
    for name, entry in data.items():
        if isinstance(entry, dict) and any(isinstance(entry.get(lang), list) for lang in lexicon.LANGUAGES):
            yield name, entry


def test_the_data_folder_holds_the_agents_files():
    assert {"response", "notifications", "handoff", "escalation", "intent", "language", "waitlist"} <= set(DATA_FILES)


@pytest.mark.parametrize("name", DATA_FILES)
def test_every_lexicon_compiles_and_every_template_has_three_languages(name):
    data = lexicon.load(name)
    if "templates" in data:
        assert Templates.from_file(name).keys()
    for entry_name, entry in _lexicon_entries(data):
        assert set(entry) <= {"note", *lexicon.LANGUAGES}, entry_name
        parts = {"BODY": lexicon.alternatives(data["body_parts"])} if "body_parts" in data else {}
        re.compile(lexicon.alternatives(entry, **parts))


def test_a_template_missing_a_language_or_a_placeholder_is_refused():
    with pytest.raises(ValueError, match="es"):
        Templates({"hello": {"en": "Hi {name}", "fr": "Salut {name}"}})
    with pytest.raises(ValueError, match="placeholders"):
        Templates({"hello": {"en": "Hi {name}", "fr": "Salut", "es": "Hola {name}"}})


def test_render_fills_the_language_text():
    templates = Templates({"hello": {"en": "Hi {name}", "fr": "Salut {name}", "es": "Hola {name}"}})
    assert templates.render("hello", "fr", name="Léa") == "Salut Léa"
    assert "hello" in templates and "bye" not in templates


def test_alternatives_fill_named_parts():
    entry = {"en": ["burned (?:my )?{BODY}"], "fr": ["brul\\w* {BODY}"]}
    pattern = re.compile(lexicon.alternatives(entry, BODY=lexicon.alternatives({"en": ["hands?"], "fr": ["mains?"]})))
    assert pattern.search("it burned my hands") and pattern.search("ca a brule mains")
    assert not pattern.search("it burned evenly")


@pytest.mark.parametrize(("text", "expected"), [
    ("I want to talk to a real person", True), ("Je veux parler à quelqu'un", True),
    ("¿Puedo hablar con alguien?", True), ("Where is my order?", False),
])
def test_the_intent_agent_reads_its_phrases_from_data(text, expected):
    assert intent.wants_human(text) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Tell me when it's back in stock", True), ("Prévenez-moi quand il revient", True),
    ("Avísame cuando vuelva", True), ("Is it in stock?", False),
])
def test_the_waitlist_reads_its_phrases_from_data(text, expected):
    assert waitlist.asks_to_be_told(text) is expected


def test_the_escalation_agent_reads_its_phrases_from_data():
    assert escalation._BULK_COLLECTIVE.search("une quarantaine de jeux")
    assert not escalation._BULK_COLLECTIVE.search("quarante jeux")
