"""Critic / supervisor agent: screens the customer's message before the other agents see it (``check_input``: its
size, then the learned screen of core.agents.critic_model; the abuse lexicon of core/agents/data/critic.json records
abuse without blocking) and reviews the draft reply before the customer does (``check_output``); it also decides
what a rejected draft gets (one retry with its reasons on a model, then the safe fallback)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal

from core import lexicon
from core.agents import critic_model, knowledge
from core.language import detect as detect_language
from core.models import Draft, InputVerdict, Language, OutputVerdict, ShopFacts, language_of_locale
from core.pii.patterns import find_patterns
from core.text import fold
from core.turn.ports import TurnPorts
from core.turn.state import TurnState

_DATA_FILE = lexicon.load("critic")  # the abuse lexicon, over the folded text
_INSULTS: dict[str, str] = {lang: _DATA_FILE["insults"][lang] for lang in ("en", "fr", "es")}
_FR_CON: str = _DATA_FILE["insult_fr_con"]["pattern"]
_ABUSE = re.compile(rf"\b(?:{'|'.join(_INSULTS.values())}|{_FR_CON})\b|\bcoño\b")  # coño folds to cono (cone)


def _norm(text: str) -> str:
    return fold(text).replace("’", "'")


def is_abusive(text: str) -> bool:
    return bool(_ABUSE.search(text.lower()) or _ABUSE.search(_norm(text)))


#: Reasons that stop a message before any other agent sees it (abuse alone does not: see screen_message).
BLOCKING = ("oversize", "prompt_injection", "data_extraction", "fraud_assistance", "harmful_request")


# An e-mail address says nothing of the customer's language.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
#: Words a message may hold beside the details it hands over ("sorry, it's …", "mi correo es …") and still be
#: only those details.
_DETAILS_LEAD_IN_WORDS = 4


def details_only(message: str) -> bool:
    """The message is the details a customer was asked for (an e-mail, a phone or order number, a tracking code)
    with at most a short lead-in: nothing an attack could be written in, so the learned screen is not asked."""
    spans = find_patterns(message)
    if not spans:
        return False
    rest = list(message)
    for span in spans:
        rest[span.start:span.end] = " " * (span.end - span.start)
    return len(re.findall(r"\w+", "".join(rest))) <= _DETAILS_LEAD_IN_WORDS


def screen_message(message: str, *, locale_language: Language | None, fallback_language: Language,
                   max_bytes: int) -> InputVerdict:
    reasons: list[str] = []
    if len(message.encode("utf-8")) > max_bytes:
        reasons.append("oversize")
    learned = None if details_only(message) else critic_model.screen(message)
    if learned and learned not in reasons:
        reasons.append(learned)
    abusive = is_abusive(message)
    # An e-mail address says nothing of the customer's language ("marie-eve.gagnon@…" is not French).
    detected, confidence = detect_language(_EMAIL.sub(" ", message))
    if locale_language:
        language: Language = locale_language
    elif confidence >= 0.5:
        language = detected  # type: ignore[assignment]
    else:
        language = fallback_language
    # Abuse alone does not block: an angry customer still gets help (and is escalated), but it is recorded.
    blocked = any(r in BLOCKING for r in reasons)
    if abusive:
        reasons.append("abusive_language")
    return InputVerdict(blocked=blocked, reasons=reasons, language=language, language_confidence=confidence)


_TOKEN_RE = re.compile(r"TOKEN_[0-9a-fA-F-]{8,}")
# A number with optional thousands groups ("1,200", "1.200", "1 200") and decimals ("12.00", "45,50").
_NUMBER_RE = re.compile(
    r"(?<![\d.,])(?P<int>[1-9]\d{0,2}(?P<sep>[,. \u00a0\u202f])\d{3}(?!\d)(?:(?P=sep)\d{3}(?!\d))*|\d+)"
    r"(?P<frac>[.,]\d+)?(?!\d)"
)


def _value(match: re.Match) -> Decimal:
    digits = match["int"].replace(match["sep"], "") if match["sep"] else match["int"]
    return Decimal(digits + ("." + match["frac"][1:] if match["frac"] else ""))


def number_value(text: str) -> Decimal | None:
    """The first number in ``text`` read with en/fr/es separators: "$1,200" = "1 200 $" = 1200, "1.200,50" = 1200.5."""
    match = _NUMBER_RE.search(text)
    return _value(match) if match else None


def _pieces(match: re.Match) -> list[Decimal]:
    # "7023 456 890" may be a spaced-out code rather than thousands: its groups count on their own too.
    if match["sep"] and match["sep"].isspace():
        return [Decimal(p) for p in match["int"].split(match["sep"])]
    return []


# Insults aimed at the customer (a second person, or their question); "there are no stupid questions" is fine.
_ADDRESSEE = re.compile(r"\b(?:you|your|yourself|vous|votre|vos|tu|toi|ton|ta|tes|t'|usted|ustedes|su|sus|te|ti"
                        r"|questions?|request|message|demandes?|preguntas?|mensajes?)\b")
_NEGATED = re.compile(r"\b(?:no|not|never|pas|aucune?|jamais|ningun[ao]?|nunca)\b(?:\W+\w+){0,2}\W*$")
_CONTEMPT = re.compile(r"\b(?:(?:read|check) (?:the faq|it) yourself|figure it out yourself|not my problem"
                       r"|pas mon probleme|debrouillez-vous|no es mi problema)")


def _rude(reply: str) -> bool:
    text = _norm(reply)
    if _CONTEMPT.search(text):
        return True
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        if not _ADDRESSEE.search(sentence):
            continue
        for match in _ABUSE.finditer(sentence):
            if not _NEGATED.search(sentence[:match.start()]):
                return True
    return False


def review_reply(draft: Draft, *, context_text: str, expected_language: Language,
                 other_customer_values: list[str] | None = None, names: Sequence[str] = ()) -> OutputVerdict:
    """Flag unresolved PII tokens, numbers absent from the grounding context, leaks, rudeness and wrong language
    (``names``: the shop's names of the products and order lines the reply may give, in whatever language the shop
    wrote them)."""
    reasons: list[str] = []
    if _TOKEN_RE.search(draft.reply):
        reasons.append("unresolved_token")
    if draft.pii_report:
        reasons.append("foreign_token")  # a token this conversation never issued: never restored, never shown
    figures = list(_NUMBER_RE.finditer(draft.reply))
    known: set[Decimal] = set()
    for match in _NUMBER_RE.finditer(context_text) if figures else ():  # (a reply without figures has none to find)
        known.update([_value(match), *_pieces(match)])
    for match in figures:
        pieces = _pieces(match)
        if _value(match) not in known and not (pieces and all(p in known for p in pieces)):
            reasons.append(f"ungrounded_number:{match.group(0)}")
            break
    lowered = fold(draft.reply)
    for value in other_customer_values or []:
        if value and fold(value) in lowered:
            reasons.append("other_customer_data")
            break
    if _rude(draft.reply):
        reasons.append("rude_tone")
    wrong = wrong_language(draft.reply, expected_language, names_from=context_text, names=names)
    if wrong:
        reasons.append(f"wrong_language:{wrong}")
    return OutputVerdict(ok=not reasons, reasons=reasons)


# Clearly delimited quotations: « … », “ … ” and "…" (a page the shop wrote in another language, quoted word for word
# inside a reply in the customer's language, or a page title).
_QUOTATION = re.compile(r"«[^«»]*»|“[^“”]*”|\"[^\"\n]*\"")
_WORD = re.compile(r"[^\W\d_]{2,}")
_MIN_FRAME_WORDS = 4
_CAPITALISED = re.compile(r"\b[A-Z][^\W\d_]+\b")


def wrong_language(reply: str, expected: Language, *, names_from: str = "", names: Sequence[str] = ()) -> str | None:
    """The reply's language when it is clearly not ``expected``. Delimited quotations do not count, so a French
    reply quoting an English policy stays French; but the words around them must then make a real sentence (at
    least four words), or the whole reply is judged as it is: a bare « English text » is still English. Capitalised
    words the grounding context ``names_from`` holds are names the shop gave (products, carriers: "Darjeeling First
    Flush", "Canada Post"), not the reply's language, and are left out of the judgement, as are the shop's own names
    of its products and their options (``names``), whole: a French shop's "Kombucha — culture et trousse" in an
    English reply is the product's name, not French."""
    for name in sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True):
        reply = _without(reply, name)
    if names_from:
        known = {w.casefold() for w in _CAPITALISED.findall(names_from)}
        reply = _CAPITALISED.sub(lambda m: " " if m.group(0).casefold() in known else m.group(0), reply)
    unquoted = _QUOTATION.sub(" ", reply)
    if unquoted == reply or len(_WORD.findall(unquoted)) < _MIN_FRAME_WORDS:
        return _judge(reply, expected)
    detected, confidence = detect_language(unquoted)  # the frame, however short: it is the reply's own words
    return detected if confidence >= 0.6 and detected != expected else None


def _without(text: str, name: str) -> str:
    """``text`` with every occurrence of ``name`` (any case) blanked."""
    lowered, key = text.casefold(), name.casefold()
    if len(lowered) != len(text):  # (a letter whose case folding changes the length: compare as written)
        lowered, key = text, name
    out, start = [], 0
    while (found := lowered.find(key, start)) >= 0:
        out.append(text[start:found])
        start = found + len(key)
    return " ".join([*out, text[start:]])


def shop_names(facts: ShopFacts) -> list[str]:
    """The names the shop gave what a reply about these facts may name: its products, their options and the order
    lines (the titles of the items bought)."""
    names = [p.title for p in facts.products]
    names += [str(v.get("title")) for p in facts.products for v in p.variants if v.get("title")]
    names += [item.split(" × ", 1)[-1] for o in facts.orders for item in [*o.items, *o.pending_items]]
    return names


def _judge(text: str, expected: Language) -> str | None:
    detected, confidence = detect_language(text)
    if confidence >= 0.6 and detected != expected and len(text) > 40:
        return detected
    return None


# The turn's steps --------------------------------------------------------------------------------------------------
def check_input(state: TurnState, ports: TurnPorts) -> InputVerdict:
    """The customer's message screened in the conversation's language (else the shop's default language)."""
    ctx = state.context
    assert ctx is not None
    default = ctx.tenant.default_language[:2]
    fallback: Language = ctx.language or (default if default in ("en", "fr", "es") else "en")  # type: ignore[assignment]
    return screen_message(state.turn.message, locale_language=language_of_locale(state.turn.locale),
                          fallback_language=fallback, max_bytes=ports.settings.CHAT_MAX_MESSAGE_BYTES)


def lets_through(state: TurnState) -> bool:
    """Pure rule: the message was screened and not blocked (a blocked message never reaches the other agents)."""
    return state.screen is not None and not state.screen.blocked


def context_text(state: TurnState, ports: TurnPorts) -> str:
    """Everything the reply may draw on: the message, the shop facts, the cited passages and documents, the
    ticket id."""
    parts = [state.turn.message, state.facts.model_dump_json()]
    parts.extend(c.passage for c in state.citations)
    parts.extend(knowledge.cited_documents(ports.store, state.turn.tenant_id, state.citations, limit=2).values())
    # A follow-up answered from the pages of the previous question's subject cites pages of its own search.
    # A reply quotes the whole documents of the pages it cites (a damaged item's claim steps, a policy beside an
    # order), which may be other pages than the turn's two best ones: their text grounds the reply as well.
    read = {c.doc_id for c in state.citations[:2]}
    cited = {c.doc_id for c in state.citations}
    quoted = state.draft.citations if state.draft else []
    answered_from = [c for c in quoted if c.doc_id not in cited]
    parts.extend(c.passage for c in answered_from)
    parts.extend(knowledge.cited_documents(ports.store, state.turn.tenant_id,
                                           [c for c in quoted if c.doc_id not in read], limit=2).values())
    if state.escalation.ticket_id:
        parts.append(state.escalation.ticket_id)
    if state.action is not None:
        parts.extend(state.action.grounding)
    return "\n".join(parts)


def other_customer_values(state: TurnState, ports: TurnPorts) -> list[str]:
    """What this turn knows of other customers: the orders it looked up but withheld because the asker does not own
    them (``needs_verification``, or one of several numbers asked about), i.e. their emails, phones, full names,
    street addresses, postal codes and tracking numbers, minus the asking customer's own email and name.

    By design nothing else in the context can belong to someone else: ShopFacts holds only orders the asker owns,
    the history is this conversation's, KB passages are the shop's public pages, and a PII token of another
    conversation is reported by the router (``foreign_token``). These values never enter the prompt either, so the
    check is a second line of defence should a change ever put them in context. Single first names are left out
    (the critic matches substrings, and "Sam" is in "Samples")."""
    if state.intent is None or state.context is None:
        return []
    ctx = state.context
    numbers = state.intent.entities.order_numbers or (
        [ctx.order_number] if ctx.order_number and state.intent.label in knowledge.ORDER_INTENTS else [])
    disclosed = {o.order_number for o in state.facts.orders}
    if state.action is not None and state.action.order_number:
        disclosed.add(state.action.order_number)  # the customer proved it is theirs to act on
    customer = ctx.customer
    own = {fold(v) for v in (customer.email if customer else None, customer.name if customer else None,
                             ctx.verified_email, *state.intent.entities.emails) if v}
    own |= {fold(o.tracking_number) for o in state.facts.orders if o.tracking_number}
    shop = ports.shop_for(state.turn.tenant_id)
    values: list[str] = []
    for number in numbers[:3]:
        order = shop.find_order(state.turn.tenant_id, number)
        if order is None or str(order.get("order_number") or order.get("name")) in disclosed:
            continue
        people = [order.get("customer") or {}, order.get("shipping_address") or {},
                  order.get("billing_address") or {}]
        values += [order.get("email"), order.get("contact_email"), order.get("phone")]
        for person in people:
            values += [person.get("email"), person.get("phone"), person.get("name"), person.get("address1"),
                       person.get("zip"), " ".join(p for p in (person.get("first_name"), person.get("last_name")) if p)]
        for fulfillment in order.get("fulfillments") or []:
            values += [fulfillment.get("tracking_number"), *(fulfillment.get("tracking_numbers") or [])]
    cleaned = (str(v).strip() for v in values if v)
    return list(dict.fromkeys(v for v in cleaned if len(v) >= 5 and fold(v) not in own and
                              (" " in v or not v.isalpha())))


def check_output(state: TurnState, ports: TurnPorts) -> OutputVerdict:
    assert state.draft is not None
    return review_reply(state.draft, context_text=context_text(state, ports), expected_language=state.language,
                        other_customer_values=other_customer_values(state, ports), names=shop_names(state.facts))


def worth_a_retry(state: TurnState) -> bool:
    """Pure rule: a model's rejected draft gets one more try; an offline draft is deterministic, so it would not
    change."""
    return (state.review is not None and not state.review.ok and state.draft is not None
            and state.draft.usage.provider != "offline")


def retry_with_reasons(state: TurnState) -> None:
    """Before the retry: the response agent is told why its draft was rejected, and the reply will say so."""
    assert state.review is not None
    state.guardrail_reasons = [f"output:{r}" for r in state.review.reasons]
    state.retry_feedback = state.review.reasons


def approved(state: TurnState) -> bool:
    """Pure rule: the draft passed the review, so it is the reply."""
    return state.review is not None and state.review.ok


def rejected(state: TurnState) -> bool:
    """Pure rule: the (last) draft failed the review, so the customer gets the safe fallback instead."""
    return state.review is not None and not state.review.ok


def fall_back(state: TurnState) -> None:
    """Before the fallback: the reply's guardrail reasons say what was rejected and that the fallback answers."""
    assert state.review is not None
    state.guardrail_reasons.extend(f"output:{r}" for r in state.review.reasons)
    state.guardrail_reasons.append("output:fallback_used")
