"""The row of a table that answers: the one whose cells hold what the question names."""

from __future__ import annotations

from datetime import date

from core.agents import table_rows
from core.agents.table_rows import ROW_MATCH_WEIGHT, RowRanker, asked, relative_days, row_weights, shop_day, tables
from core.rag.answer_units import ReplyRanker, split_units

ZONES = """# Shipping

| Zone | Provinces | Shipping days | Rate |
|---|---|---|---|
| Zone 1 | Quebec, Ontario | Monday, Tuesday, Wednesday | $14.95 |
| Zone 2 | New Brunswick, Manitoba | Monday, Tuesday, Wednesday | $24.95 |
| Zone 3 | Alberta, British Columbia | Monday and Tuesday only | $34.95 |

Orders placed after 11:00 a.m. leave on the next shipping day for their zone.
"""

DEADLINES = """# Holidays

## Last days to order before Christmas
- **Zone 3** (Alberta, British Columbia): **Tuesday, December 15**
- **Zone 2** (New Brunswick, Manitoba): **Wednesday, December 16**
- **Zone 1** (Quebec, Ontario): **Tuesday, December 22**
"""

SERVICES = """# Workshop

| Service | Price | What's included |
|---|---|---|
| Safety Check | $35 | Brakes and gears adjusted |
| Basic Tune | $89 | Safety Check + wheels trued |
| Full Tune | $169 | Basic Tune + drivetrain deep-cleaned |
"""

HOLIDAY_HOURS = """# Holiday hours

| Day | Hours |
|---|---|
| Thursday, December 24 | 9 a.m. – 3 p.m. |
| Friday, December 25 | closed |
| Thursday, December 31 | 9 a.m. – 4 p.m. |
"""


def _weights(content: str, question: str, today: date | None = None) -> dict[str, float]:
    return {unit.text: weight for unit, weight in row_weights(split_units(content), asked(question, today)).items()}


def test_the_row_naming_the_province_of_the_town_asked_about_is_weighed():
    weights = _weights(ZONES, "how long to Calgary?")
    assert list(weights) == [next(u.text for u in split_units(ZONES) if "Alberta" in u.text)]
    assert weights[next(iter(weights))] == ROW_MATCH_WEIGHT


def test_a_list_of_label_and_value_items_is_a_table_too():
    weights = _weights(DEADLINES, "last day to order for Winnipeg?")
    assert [text.split(":")[0] for text in weights] == ["Zone 2 (New Brunswick, Manitoba)"]
    assert len(tables(split_units(DEADLINES))) == 1


def test_a_thing_every_row_holds_tells_none_apart():
    # every zone ships on Monday; only Zone 1 and 2 on Wednesday
    weights = _weights(ZONES, "do you ship on Monday?")
    assert weights == {}
    assert len(_weights(ZONES, "do you ship on Wednesday?")) == 2


def test_the_row_whose_first_cell_names_the_service_beats_one_that_mentions_it():
    weights = _weights(SERVICES, "how much is a basic tune up?")
    basic = next(t for t in weights if t.startswith("Service: Basic Tune"))
    full = next(t for t in weights if t.startswith("Service: Full Tune"))
    assert weights[basic] > weights[full] > 0


def test_a_relative_day_is_read_on_the_shops_calendar():
    # "tomorrow" on Wednesday, December 23 is Thursday, December 24
    weights = _weights(HOLIDAY_HOURS, "are you open tomorrow?", date(2026, 12, 23))
    assert [t.split(",")[0] for t in weights] == ["Day: Thursday"] and "December 24" in next(iter(weights))
    # without the day of the message, "tomorrow" names no row
    assert _weights(HOLIDAY_HOURS, "are you open tomorrow?") == {}
    # a date named outright
    assert ["December 25" in t for t in _weights(HOLIDAY_HOURS, "open on December 25?")] == [True]


def test_relative_day_words():
    assert relative_days("are you open tomorrow?") == [1]
    assert relative_days("pis aujourd'hui? ou après-demain") == [0, 2]
    assert relative_days("lo pedí hoy en la mañana") == [0]  # the morning is no day
    assert relative_days("¿abren mañana?") == [1]
    assert relative_days("what are your hours?") == []


def test_the_shops_day_is_its_own_timezone():
    # 03:00 UTC on December 8 is still December 7 in Toronto
    assert shop_day("2026-12-08T03:00:00.000Z", "America/Toronto") == date(2026, 12, 7)
    assert shop_day("2026-12-08T03:00:00.000Z", "Not/AZone") == date(2026, 12, 8)
    assert shop_day(None, "America/Toronto") is None


class WordEmbedder:
    """Every text the same vector: the rows differ only by what the ranker adds."""

    model_id = "same"
    dimension = 2

    def embed_queries(self, texts):
        return [[1.0, 0.0] for _ in texts]

    def embed_passages(self, texts):
        return [[1.0, 0.0] for _ in texts]


def test_the_row_ranker_puts_the_matching_row_first_and_leaves_other_questions_alone():
    plain = ReplyRanker(WordEmbedder())
    ranked = RowRanker(plain)("how long to Calgary?", [(ZONES, 0.0)])
    assert ranked[0].unit.text.startswith("Zone: Zone 3")
    assert ranked[0].score == ranked[1].score + ROW_MATCH_WEIGHT
    # a question naming nothing a row holds: the inner ranker's order
    question = "what are your rates?"
    assert [r.unit for r in RowRanker(plain)(question, [(ZONES, 0.0)])] == [r.unit for r in plain(question,
                                                                                                [(ZONES, 0.0)])]


def test_the_question_words_exclude_its_places_and_days():
    named = asked("can I get it tomorrow in Dallas on Friday?", date(2026, 12, 7))
    assert "dalla" not in named.words and "tomor" not in named.words and "frida" not in named.words
    assert {1, 4} <= named.days and (12, 8) in named.dates and "Texas" in named.places
    assert table_rows.ROW_MATCHES >= 2


def test_the_page_unit_completing_a_lifted_row_is_still_quoted_beside_it():
    from core.agents.response import UNIT_SECOND_MARGIN, unit_choice
    from core.models import Citation
    from core.rag.answer_units import Ranked

    units = split_units(ZONES)
    alberta = next(u for u in units if "Alberta" in u.text)
    cutoff = next(u for u in units if u.text.startswith("Orders placed after"))
    # Before the lift the cut-off sentence scores within the margin of the row; the row's lift puts it beyond.
    base = {alberta: 0.60, cutoff: 0.60 - UNIT_SECOND_MARGIN + 0.01}

    def inner(question, documents, lexical=None):
        scored = [Ranked(base.get(u, 0.40) + (lexical(u, 0) if lexical else 0.0), 0.5, 0, u) for u in units]
        return sorted(scored, key=lambda r: -r.score)

    ranker = RowRanker(inner)
    source = Citation(doc_id="shipping", title="Shipping", score=0.5, passage="")
    chosen = unit_choice(ranker, [(source, ZONES)], "how long to Calgary?", defer_to_words=False)
    assert chosen is not None and chosen[1][:2] == [alberta, cutoff]
    assert ranker.row_bonus(0, alberta) == ROW_MATCH_WEIGHT and ranker.row_bonus(0, cutoff) == 0.0


CLASSES = """# Classes

| Day | Class | Time | Price |
|---|---|---|---|
| Tuesday | Sharpening 101 | 6:30 pm | $95 |
| Wednesday | Private class | 6:00 pm | $320 |
| Thursday | Knife Skills | 6:00 pm | $110 |
| Saturday | Sharpening 101 | 10:00 am | $95 |
| Sunday | Advanced Sharpening | 12:00 pm | $140 |
"""

SHARPENING = """# Prices

| Service | Price | Turnaround |
|---|---|---|
| Standard knife | $15 | 2 days |
| Long blade | $20 | 2 days |
| Bread knife | $12 | 3 days |
| Scissors | $12 | 3 days |
| Single-bevel knife (yanagiba, deba) | $28 | 5 days |
"""


def test_the_weekend_names_saturday_and_sunday():
    for question in ("can I come on weekends?", "¿abren el fin de semana?", "ouvert la fin de semaine?"):
        named = asked(question)
        assert named.days == {5, 6}, question
        assert not named.words & {"weeke", "semai", "seman"}
    assert asked("can I come on Monday?").days == {0}
    assert table_rows.names_weekend("open this week-end?") and not table_rows.names_weekend("open this week?")


def _choice(content: str, question: str):
    from core.agents.response import unit_choice
    from core.models import Citation

    ranker = RowRanker(ReplyRanker(WordEmbedder()))
    source = Citation(doc_id="page", title="Page", score=0.5, passage="")
    chosen = unit_choice(ranker, [(source, content)], question, defer_to_words=False)
    assert chosen is not None
    return [u.cells[0] for u in chosen[1] if u.kind == "row"]


def test_each_row_the_question_names_is_quoted_beside_the_best_one():
    assert sorted(_choice(CLASSES, "when are the classes? i can only do weekends")) == ["Saturday", "Sunday"]
    assert sorted(_choice(SHARPENING, "how much for a bread knife and a yanagiba?")) == [
        "Bread knife", "Single-bevel knife (yanagiba, deba)"]


def test_a_question_naming_one_row_gets_that_row_alone():
    assert _choice(SHARPENING, "how much to sharpen my scissors?") == ["Scissors"]
    assert _choice(SHARPENING, "how long for my scissors?") == ["Scissors"]  # "how long" names no "Long blade"
    # "knife" is in most rows' first cells: it names none of them
    assert len(_choice(SHARPENING, "how much to sharpen a knife?")) == 1
    assert _choice(CLASSES, "what time is the class on Thursday?") == ["Thursday"]


SHOP_HOURS = """# Visit us

## Regular hours

| Day | Hours |
|---|---|
| Monday | closed |
| Tuesday to Friday | 10 a.m. – 6 p.m. |
| Saturday | 10 a.m. – 5 p.m. |

## Holiday hours

| Date | Hours |
|---|---|
| Monday, December 21 | open 10 a.m. – 6 p.m. |
| Thursday, December 24 | 10 a.m. – 3 p.m. |
| Friday, December 25 | closed |
"""


def test_the_row_of_another_table_naming_the_same_thing_is_quoted_beside_the_best_one():
    # the regular Monday beside the holiday Monday: each table answers for its own case
    assert sorted(_choice(SHOP_HOURS, "are you open on Mondays?")) == ["Monday", "Monday, December 21"]
    # a thing only one table names leaves the other table out
    assert _choice(SHOP_HOURS, "are you open on December 24?") == ["Thursday, December 24"]
