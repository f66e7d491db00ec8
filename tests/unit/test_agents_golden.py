"""Golden input/output tests, one data file per agent (tests/fixtures/agents/).

Each JSONL line is one case: its inputs (plain JSON, rebuilt with the real pydantic models from core/models.py,
as the Durable activities do), an ``expected`` block, and optionally ``note`` (why the case exists), ``xfail`` and
``cause`` (a known bug in core code and where it is: the case states what a shop or customer expects, and the test
is a strict xfail until the code is fixed; then delete both keys). Add a case by adding a line; the test functions
below only read the files.

- intent_classify.jsonl: ``intent.classify(text, lang)``, the public API contract (few, clear-cut labels);
- intent_entities.jsonl: ``intent.extract_entities(text)`` and ``intent.wants_human(text)``;
- critic_input.jsonl: ``critic.screen_message`` (``repeat`` multiplies ``message``, for oversize cases);
- critic_output.jsonl: ``critic.review_reply``;
- escalation.jsonl: ``escalation.decide``;
- response.jsonl: ``response.compose`` / ``response.fallback`` (with ``hits``, the citations first go through
  ``knowledge.retrieve`` and its ``min_score``);
- analytics.json: ``analytics.record_event`` then ``daily_summary`` on a memory DocumentStore.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from core.agents import analytics, critic, escalation, intent, knowledge, response
from core.models import Citation, Draft, Escalation, InputVerdict, IntentResult, OrderFacts, ShopFacts
from core.rag.retrieval import SearchHit
from core.stores.memory_store import MemoryDocumentStore

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "agents"
JSONL_FILES = ("intent_classify.jsonl", "intent_entities.jsonl", "critic_input.jsonl", "critic_output.jsonl",
               "escalation.jsonl", "response.jsonl")


def load(name: str) -> list[dict]:
    path = FIXTURES / name
    if path.suffix == ".json":
        return json.loads(path.read_text(encoding="utf-8"))
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def cases(name: str) -> list:
    out = []
    for case in load(name):
        marks = []
        if case.get("xfail"):
            marks.append(pytest.mark.xfail(strict=True, reason=f"{case['xfail']} [{case.get('cause')}]"))
        out.append(pytest.param(case, id=case["id"], marks=marks))
    return out


# ---------------------------------------------------------------------------------------------------- the files


@pytest.mark.parametrize("name", [*JSONL_FILES, "analytics.json"])
def test_golden_file_is_well_formed(name):
    rows = load(name)
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)), f"duplicate ids in {name}"
    assert all("expected" in row or "summaries" in row for row in rows)
    for row in rows:
        if "xfail" in row:  # a known bug says what goes wrong and where
            assert row["xfail"] and row.get("cause", "").startswith("core/"), row["id"]
    assert {"en", "fr", "es"} <= {row["lang"] for row in rows}, f"{name} must cover en, fr and es"


# ---------------------------------------------------------------------------------------------------- intent


@pytest.mark.parametrize("case", cases("intent_classify.jsonl"))
def test_intent_classify(case):
    result = intent.classify(case["text"], case["lang_hint"])
    expected = case["expected"]
    assert isinstance(result, IntentResult)
    assert result.label in intent.LABELS
    assert 0.0 <= result.confidence <= 1.0
    assert result.language == expected["language"]
    if "label" in expected:
        assert result.label == expected["label"]
    assert result.wants_human is expected["wants_human"]
    assert result.entities == intent.extract_entities(case["text"])
    assert result.usage.provider == "offline" and result.usage.tokens == 0


@pytest.mark.parametrize("case", cases("intent_entities.jsonl"))
def test_intent_entities(case):
    entities = intent.extract_entities(case["text"])
    expected = case["expected"]
    assert entities.order_numbers == expected["order_numbers"]
    assert entities.emails == expected["emails"]
    assert entities.amounts == expected["amounts"]
    assert entities.products == []  # catalogue products are added by the classify_intent step
    if "wants_human" in expected:
        assert intent.wants_human(case["text"]) is expected["wants_human"]


# ---------------------------------------------------------------------------------------------------- critic


@pytest.mark.parametrize("case", cases("critic_input.jsonl"))
def test_critic_input(case):
    message = case["message"] * case.get("repeat", 1)
    verdict = critic.screen_message(message, locale_language=case["locale_language"],
                                 fallback_language=case["fallback_language"], max_bytes=case["max_bytes"])
    expected = case["expected"]
    assert verdict.reasons == expected["reasons"]
    assert verdict.blocked is expected["blocked"]
    assert verdict.language == expected["language"]
    assert 0.0 <= verdict.language_confidence <= 1.0


@pytest.mark.parametrize("case", cases("critic_output.jsonl"))
def test_critic_output(case):
    verdict = critic.review_reply(Draft.model_validate(case["draft"]), context_text=case["context_text"],
                                  expected_language=case["expected_language"],
                                  other_customer_values=case["other_customer_values"])
    expected = case["expected"]
    assert verdict.ok is expected["ok"], verdict.reasons
    if "reasons" in expected:
        assert verdict.reasons == expected["reasons"]
    for reason in expected.get("reasons_include", []):
        assert reason in verdict.reasons


# ---------------------------------------------------------------------------------------------------- escalation


@pytest.mark.parametrize("case", cases("escalation.jsonl"))
def test_escalation_decide(case):
    reason = escalation.decide(
        IntentResult.model_validate(case["intent"]), InputVerdict.model_validate(case["verdict"]),
        unanswered_turns=case["unanswered_turns"], message=case["message"],
        orders=[OrderFacts.model_validate(o) for o in case["orders"]], refund_limit=case["refund_limit"],
    )
    assert reason == case["expected"]


# ---------------------------------------------------------------------------------------------------- response


def _citations(case: dict) -> list[Citation]:
    if "hits" not in case:
        return [Citation.model_validate(c) for c in case["citations"]]
    hits = [SearchHit.model_validate(h) for h in case["hits"]]
    search = SimpleNamespace(search=lambda tenant_id, query, k, lang: hits[:k])
    return knowledge.retrieve(search, "golden", case["message"], case["language"], k=3,  # type: ignore[arg-type]
                              min_score=case["min_score"])


def _draft(case: dict) -> tuple[Draft, list[Citation], ShopFacts, Escalation]:
    citations = _citations(case)
    facts = ShopFacts.model_validate(case["facts"])
    handoff = Escalation.model_validate(case["escalation"])
    if case["call"] == "fallback":
        return response.fallback(case["language"]), citations, facts, handoff
    draft = response.compose(
        case["message"], verdict=InputVerdict.model_validate(case["verdict"]),
        intent=IntentResult.model_validate(case["intent"]), citations=citations, facts=facts, escalation=handoff,
        language=case["language"], documents=case["documents"] or None,
    )
    return draft, citations, facts, handoff


@pytest.mark.parametrize("case", cases("response.jsonl"))
def test_response(case):
    draft, _, _, _ = _draft(case)
    expected = case["expected"]
    assert draft.language == case["language"]
    if "reply" in expected:
        assert draft.reply == expected["reply"]
    for text in expected["contains"]:
        assert text in draft.reply
    for text in expected["not_contains"]:
        assert text not in draft.reply
    assert [c.doc_id for c in draft.citations] == expected["citations"]
    assert draft.grounded is expected["grounded"]
    assert draft.usage.provider == "offline"


@pytest.mark.parametrize("case", [c for c in load("response.jsonl") if c["call"] == "compose"], ids=lambda c: c["id"])
def test_response_passes_output_critic(case):
    """Every offline reply must survive the output critic with the context the turn gives it
    (critic.context_text): an offline draft that fails is replaced by the fallback, so a template that puts a
    number, a token or the wrong language in the reply would silently turn a good answer into "I can't answer"."""
    draft, citations, facts, handoff = _draft(case)
    context = [case["message"], facts.model_dump_json(), *(c.passage for c in citations),
               *case["documents"].values()]
    if handoff.ticket_id:
        context.append(handoff.ticket_id)
    verdict = critic.review_reply(draft, context_text="\n".join(context), expected_language=case["language"])
    assert verdict.ok, verdict.reasons
    assert not re.search(r"\{[a-z_]+\}", draft.reply), "unfilled template placeholder"


# ---------------------------------------------------------------------------------------------------- analytics


@pytest.mark.parametrize("case", cases("analytics.json"))
def test_analytics(case):
    store = MemoryDocumentStore()
    recorded = [analytics.record_event(store, analytics.TurnEvent.model_validate(e)) for e in case["events"]]
    assert recorded == case["recorded"]
    for expected in case["summaries"]:
        summary = analytics.daily_summary(store, expected["tenant_id"], expected["day"])
        assert json.loads(json.dumps(summary)) == expected
        stored = store.get(expected["tenant_id"], analytics.REPORTS, f"daily-{expected['day']}")
        assert stored is not None and json.loads(json.dumps(stored.body)) == expected
