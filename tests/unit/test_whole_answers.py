"""A reply quotes the whole of what answers: the rest of a list item, the list a sentence introduces, the row of
the period of the year asked about (or today's), and the sold-out note of the product whose variant is asked."""

from __future__ import annotations

import functools
from datetime import date

from core.agents import response
from core.agents.record_dates import dates_in, in_period, months_in, periods_in
from core.agents.table_rows import ROW_MATCH_WEIGHT, RowRanker, asked, row_weights
from core.models import Citation, Escalation, InputVerdict, IntentResult, ProductFacts, ShopFacts
from core.rag.answer_units import Ranked, ReplyRanker, rank_units, split_units
from tests.unit.test_answer_units import WordEmbedder

SHIPPING = """# Shipping

## United States

- **Duties**: since 2025, duties may be collected on delivery. They are paid by the recipient, never refunded.
- Tracked packet: $24.95, free from $300.
"""

CLUB = """# Fly Club

The club is free for every customer with an account on our site.

- One point per dollar spent on products.
- 250 points give a $10 discount.
- Points expire after 18 months without a purchase.

We offer no other discount codes.
"""

ANNOUNCED = """# Permits

You need two things:

- a salmon fishing licence;
- a daily river access fee.
"""

HOURS = """# Store hours

| Period | Days | Hours |
|---|---|---|
| High season (June 1 to September 15) | Monday to Saturday | 7 a.m. to 7 p.m. |
| Shoulder season (September 16 to October 31, and April 1 to May 31) | Tuesday to Saturday | 9 a.m. to 5 p.m. |
| Winter (November 1 to March 31) | Thursday and Friday | 10 a.m. to 5 p.m. |
"""


def _sources(*texts: str) -> list[tuple[Citation, str]]:
    return [(Citation(doc_id=f"doc-{i}", title=f"Doc {i}", score=0.7, passage=t), t) for i, t in enumerate(texts)]


def test_units_know_their_line_and_paragraph():
    units = split_units(SHIPPING)
    duties = [u for u in units if u.kind == "item" and u.line == units[0].line]
    assert [u.text for u in duties] == ["Duties: since 2025, duties may be collected on delivery.",
                                        "They are paid by the recipient, never refunded."]
    tracked = next(u for u in units if "Tracked" in u.text)
    assert tracked.line == units[0].line + 1 and tracked.paragraph == units[0].paragraph


def test_a_list_items_other_sentence_is_quoted_with_the_one_chosen():
    units = split_units(SHIPPING)
    assert response._whole_items([units[0]], units) == units[:2]
    assert response._whole_items([units[2]], units) == [units[2]]  # (one sentence: nothing to add)
    ranker = functools.partial(rank_units, WordEmbedder())
    picked = response.unit_answer(ranker, _sources(SHIPPING), "will duties be collected on delivery?",
                                  defer_to_words=False)
    assert picked is not None and "paid by the recipient" in picked[1]


def _ranked(units, scores):
    return [Ranked(score, score, 0, unit) for unit, score in zip(units, scores, strict=True)]


def test_the_list_a_sentence_introduces_is_quoted_when_it_answers_as_well():
    units = split_units(CLUB)
    lead, *items = units[:4]
    # the items about as close as the sentence: the list answers with it
    near = _ranked(units, [1.25, 1.24, 1.23, 1.22, 1.10])
    assert response._introduced_list(near[0], near, units) == items
    # an item the best: the sentence leading the list and the other items come with it
    first = sorted(near, key=lambda r: -r.score if r.unit is not items[0] else -9)
    assert response._introduced_list(first[0], near, units) == [lead, *items[1:]]
    # the items far below the sentence: it answers alone ("is the club free?")
    far = _ranked(units, [1.25, 1.10, 1.10, 1.10, 1.0])
    assert response._introduced_list(far[0], far, units) == []
    # a sentence after the list introduces nothing
    assert response._introduced_list(far[4], far, units) == []


def test_a_sentence_ending_with_a_colon_brings_its_list_whatever_the_scores():
    units = split_units(ANNOUNCED)
    ranked = _ranked(units, [1.3, 0.5, 0.5])
    assert [u.text for u in response._introduced_list(ranked[0], ranked, units)] == [
        "a salmon fishing licence;", "a daily river access fee."]


def test_a_list_under_its_heading_is_headed_once():
    units = split_units("# Shipping\n\n## When does it ship?\n\n- Monday to Friday in summer.\n- Tuesdays in winter.\n")
    assert response.quote_units(units) == "When does it ship?: Monday to Friday in summer. Tuesdays in winter."


def test_periods_of_the_year_and_months_are_read_from_text():
    assert periods_in("September 16 to October 31, and April 1 to May 31") == [((9, 16), (10, 31)),
                                                                               ((4, 1), (5, 31))]
    assert periods_in("du 1er juin au 15 septembre") == [((6, 1), (9, 15))]
    assert periods_in("until January 15") == []  # one date: no period
    assert in_period((1, 10), ((11, 1), (3, 31))) and not in_period((7, 10), ((11, 1), (3, 31)))
    assert months_in("k. wat about in july") == {7} and months_in("may I come in?") == set()
    assert [(d.month, d.day) for d in dates_in("June 1st")] == [(6, 1)]


def test_the_row_of_the_period_asked_about_answers():
    units = split_units(HOURS)
    summer, shoulder, winter = [u for u in units if u.kind == "row"]
    weights = row_weights(units, asked("what about in july"))
    assert weights.get(summer, 0.0) > 0 and not weights.get(winter) and not weights.get(shoulder)
    # no period named: today's period; the summer row's Monday tells nothing in winter
    weights = row_weights(units, asked("are you open mondays", today=date(2026, 12, 7)))
    assert weights.get(winter, 0.0) >= 2 * ROW_MATCH_WEIGHT and not weights.get(summer)
    # a month two periods share: both rows
    weights = row_weights(units, asked("open in september?"))
    assert weights.get(summer) and weights.get(shoulder) and not weights.get(winter)


def test_the_reply_quotes_the_row_of_todays_period():
    ranker = RowRanker(ReplyRanker(WordEmbedder()), today=date(2026, 12, 7))
    picked = response.unit_answer(ranker, _sources(HOURS), "what are your hours?", defer_to_words=False)
    assert picked is not None and "Thursday and Friday" in picked[1] and "Monday to Saturday" not in picked[1]
    summer = RowRanker(ReplyRanker(WordEmbedder()), today=date(2026, 7, 7))
    picked = response.unit_answer(summer, _sources(HOURS), "what are your hours?", defer_to_words=False)
    assert picked is not None and "Monday to Saturday" in picked[1] and "Thursday and Friday" not in picked[1]


KIT = ProductFacts(product_id="1", doc_id="product-kit", title="Beginner Kit", price="189.00", currency="CAD",
                   in_stock=True, quantity=5, variants=[{"title": "9 ft #5", "price": "189.00", "in_stock": True,
                                                         "quantity": 5}])
LINE = ProductFacts(product_id="2", doc_id="product-skagit", title="Skagit Line", price="139.00", currency="CAD",
                    in_stock=True, quantity=3,
                    variants=[{"title": "450 gr", "price": "139.00", "in_stock": True, "quantity": 3},
                              {"title": "570 gr", "price": "139.00", "in_stock": False, "quantity": 0}])
LINE_PAGE = "Integrated Skagit head for two-handed rods.\n570 gr: on backorder, shipping around January 15."


def test_the_sold_out_note_of_the_product_whose_variant_is_asked():
    cited = [Citation(doc_id=KIT.doc_id, title=KIT.title, score=0.8, passage="Ready-to-fish kit with a rod."),
             Citation(doc_id=LINE.doc_id, title=LINE.title, score=0.7, passage=LINE_PAGE)]
    reply = response.compose(
        "do you have the skagit line in 570 gr?", verdict=InputVerdict(),
        intent=IntentResult(label="product_info", confidence=0.9, language="en"), citations=cited,
        facts=ShopFacts(products=[KIT, LINE]), escalation=Escalation(), language="en",
        documents={c.doc_id: c.passage for c in cited},
        ranker=functools.partial(rank_units, WordEmbedder())).reply
    assert "January 15" in reply


WADERS = ProductFacts(product_id="3", doc_id="product-waders", title="Madeleine Waders", price="429.00",
                      currency="CAD", in_stock=True, quantity=9,
                      variants=[{"title": t, "price": "429.00", "in_stock": True, "quantity": 3}
                                for t in ("M", "L", "LL (L-Long)")])
GUIDE = """# Size guide

The waders are unisex.

The LL (L-Long) has the chest of the L but a longer inseam, for taller people.
"""


def test_a_variant_named_by_the_code_before_its_gloss_is_asked():
    from core.agents.variants import asked_variants

    asked = asked_variants(WADERS.title, WADERS.variants, "what's the difference between L and LL?")
    assert [v["title"] for v in asked] == ["L", "LL (L-Long)"]
    assert [v["title"] for v in asked_variants(WADERS.title, WADERS.variants, "we'll take the L")] == ["L"]


def test_a_page_telling_the_variants_asked_apart_is_quoted_beside_their_stock():
    cited = [Citation(doc_id=WADERS.doc_id, title=WADERS.title, score=0.8, passage="Breathable waders."),
             Citation(doc_id="guide", title="Size guide", score=0.6, passage=GUIDE)]
    draft = response.compose(
        "difference between L and LL, and are both in stock?", verdict=InputVerdict(),
        intent=IntentResult(label="product_info", confidence=0.9, language="en"), citations=cited,
        facts=ShopFacts(products=[WADERS]), escalation=Escalation(), language="en",
        documents={c.doc_id: c.passage for c in cited}, ranker=functools.partial(rank_units, WordEmbedder()))
    assert "longer inseam" in draft.reply and "unisex" not in draft.reply
    assert "guide" in [c.doc_id for c in draft.citations]
    # one variant asked: its card answers alone
    one = response.variants_compared(functools.partial(rank_units, WordEmbedder()), "is the LL in stock?", WADERS,
                                     cited, None, "en")
    assert one is None


DEADLINES = """# Holiday 2026

## Last days to order

| Destination | Letter mail | Expedited |
|---|---|---|
| Atlantic provinces | Monday, December 7 | Friday, December 11 |
| Ontario, Quebec | Wednesday, December 9 | Monday, December 14 |
| Yukon | Wednesday, December 2 | Monday, December 7 |
"""


def test_a_row_giving_one_date_per_column_gives_no_period():
    # (two carriers' deadlines are not a first and a last day: today falling between them names no row)
    units = split_units(DEADLINES)
    atlantic, central, yukon = [u for u in units if u.kind == "row"]
    weights = row_weights(units, asked("what's the last day to order for Christmas?", today=date(2026, 12, 7)))
    assert not weights.get(atlantic) and not weights.get(yukon) and not weights.get(central)
