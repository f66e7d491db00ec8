"""The steps of one chat turn, as plain functions over ``TurnState`` — each one is a Durable activity.

The orchestrator (blueprints/orchestration.py) only sequences these steps; all I/O happens here.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pydantic import BaseModel

from core import conversations
from core.agents import analytics, critic, escalation, intent, knowledge, response
from core.conversations import ConversationState, TurnRecord
from core.handoff import HandoffJob
from core.integrations.shop_sandbox import ShopSandbox
from core.models import (
    Citation,
    CustomerRef,
    Draft,
    Escalation,
    Guardrail,
    InputVerdict,
    IntentResult,
    Language,
    OutputVerdict,
    ProductFacts,
    ShopFacts,
    TurnInput,
    TurnResult,
    Usage,
    language_of_locale,
)
from core.pii.cards import mask_card_numbers
from core.services import get_services
from core.tenants import TenantConfig, get_tenant
from core.text import fold, tokens


class UnknownTenant(LookupError):
    pass


class TurnContext(BaseModel):
    tenant: TenantConfig
    language: Language | None = None
    customer: CustomerRef | None = None
    claimed_customer: CustomerRef | None = None
    order_number: str | None = None
    order_from_list: bool = False
    product_ids: list[str] = []
    verified_email: str | None = None
    history: list[dict] = []
    unanswered_turns: int = 0
    turn_index: int = 0


class TurnState(BaseModel):
    """Everything known about the turn so far; the orchestrator passes it from step to step as JSON."""

    turn: TurnInput
    context: TurnContext | None = None
    screen: InputVerdict | None = None
    intent: IntentResult | None = None
    citations: list[Citation] = []
    facts: ShopFacts = ShopFacts()
    escalation: Escalation = Escalation()
    draft: Draft | None = None
    review: OutputVerdict | None = None
    retry_feedback: list[str] = []
    guardrail_reasons: list[str] = []


class Understanding(BaseModel):
    """What ``understand_message`` returns: the conversation context, the input critic's verdict, and the intent
    unless it blocked."""

    context: TurnContext
    screen: InputVerdict
    intent: IntentResult | None = None


class RecordedTurn(BaseModel):
    """What ``record_turn`` returns: the API result, and the analytics event that ``publish_turn_event`` sends
    once the reply is out."""

    result: TurnResult
    event: analytics.TurnEvent


class ReviewedDraft(BaseModel):
    """What ``compose_and_review`` returns: the response agent's draft and the critic's review of it."""

    draft: Draft
    review: OutputVerdict


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def load_context(state: TurnState) -> TurnContext:
    services = get_services()
    tenant = get_tenant(state.turn.tenant_id, services.store)
    if tenant is None:
        raise UnknownTenant(state.turn.tenant_id)
    conv = conversations.load(services.store, state.turn.tenant_id, state.turn.conversation_id)
    if conv is None:
        return TurnContext(tenant=tenant, customer=state.turn.customer, claimed_customer=state.turn.claimed_customer)
    unanswered = 0
    for record in reversed(conv.turns):
        if record.escalated or record.intent == "blocked":
            break
        if record.answered:
            break
        unanswered += 1
    history = [{"user": t.user, "reply": t.reply, "intent": t.intent} for t in
               conv.turns[-services.settings.CONVERSATION_HISTORY_TURNS:]]
    return TurnContext(
        tenant=tenant, language=conv.language, customer=state.turn.customer or conv.customer,
        claimed_customer=state.turn.claimed_customer,
        order_number=conv.slots.order_number, order_from_list=conv.slots.order_from_list,
        product_ids=conv.slots.product_ids,
        verified_email=conv.slots.verified_email, history=history, unanswered_turns=unanswered,
        turn_index=len(conv.turns),
    )


def screen_input(state: TurnState) -> InputVerdict:
    settings = get_services().settings
    ctx = state.context
    assert ctx is not None
    fallback: Language = ctx.language or (ctx.tenant.default_language[:2] if ctx.tenant.default_language[:2]
                                          in ("en", "fr", "es") else "en")  # type: ignore[assignment]
    return critic.check_input(state.turn.message, locale_language=language_of_locale(state.turn.locale),
                              fallback_language=fallback, max_bytes=settings.CHAT_MAX_MESSAGE_BYTES)


def classify_intent(state: TurnState) -> IntentResult:
    assert state.screen is not None
    ctx = state.context
    result = intent.understand(state.turn.message, state.screen.language, router=get_services().llm,
                               tenant_id=state.turn.tenant_id, conversation_id=state.turn.conversation_id,
                               history=ctx.history if ctx else None)
    services = get_services()
    products = ShopSandbox(services.store).match_products(
        state.turn.tenant_id, state.turn.message, max_staleness=services.settings.INTENT_CACHE_TTL_SECONDS)
    result.entities.products = [str(p.get("id")) for p, _ in products]
    if products and result.label == "general":
        # "Hi, do you have lavender soap?": naming a catalogue product makes a greeting a product question.
        result.label = "product_info"
    if ctx is None or not ctx.history:
        return result
    last_intent = ctx.history[-1].get("intent")
    short = len(tokens(state.turn.message)) <= 8
    if ctx.order_number and not result.entities.order_numbers and last_intent == "order_status":
        # "where is it now?" or "my email is …" continues the order being discussed; a confident other topic
        # ("thanks, and what's your return window?") does not.
        if result.entities.emails or (short and result.confidence < 0.65) or result.label in ("shipping",
                                                                                              "general"):
            result.label = "order_status"
    elif ctx.product_ids and last_intent == "product_info" and short and result.confidence < 0.6:
        # "how much is it?" continues the product being discussed.
        result.label = "product_info"
    return result


def retrieve_knowledge(state: TurnState) -> list[Citation]:
    services = get_services()
    assert state.intent is not None
    k = services.settings.KNOWLEDGE_TOP_K
    wide = state.intent.label == "product_info"
    citations = knowledge.retrieve(services.knowledge, state.turn.tenant_id, state.turn.message,
                                   state.intent.language, k=k * 3 if wide else k,
                                   min_score=services.settings.KNOWLEDGE_MIN_SCORE)
    if wide:
        # A product question is answered from product pages first (stable order otherwise).
        citations = sorted(citations, key=lambda c: not c.doc_id.startswith("product-"))[:k]
    return citations


def lookup_shop_data(state: TurnState) -> ShopFacts:
    services = get_services()
    assert state.intent is not None and state.context is not None
    ctx = state.context
    # An order only picked as the latest of a listing answers "where is it now?", not "what's your return window?".
    slot_order = ctx.order_number if not ctx.order_from_list or state.intent.label == "order_status" else None
    return knowledge.shop_facts(
        ShopSandbox(services.store), state.turn.tenant_id, state.turn.message, state.intent,
        customer=ctx.customer, slot_order=slot_order, slot_products=ctx.product_ids,
        verified_email=ctx.verified_email, currency=ctx.tenant.currency, shop_url=ctx.tenant.shop_url,
        claimed_email=ctx.claimed_customer.email if ctx.claimed_customer else None,
    )


def escalation_reason(state: TurnState) -> str | None:
    """Pure rule evaluation (no I/O): safe to call from the orchestrator."""
    if state.screen is None or state.intent is None or state.context is None:
        return None
    if state.screen.blocked:
        return None
    answered = bool(state.facts.orders or state.facts.products or state.citations)
    return escalation.decide(state.intent, state.screen,
                             unanswered_turns=state.context.unanswered_turns + (0 if answered else 1),
                             message=state.turn.message, orders=state.facts.orders,
                             refund_limit=state.context.tenant.escalation.refund_auto_approve_limit)


def escalate(state: TurnState, reason: str) -> Escalation:
    services = get_services()
    ctx = state.context
    assert ctx is not None
    # The ticket (and the desk it is pushed to) keeps the conversation's text with card numbers masked.
    transcript = [{k: mask_card_numbers(v) if isinstance(v, str) else v for k, v in turn.items()}
                  for turn in [*ctx.history, {"user": state.turn.message}]]
    priority = "urgent" if reason == "safety" else (
        "high" if reason in ("complaint", "frustrated_customer", "refund_above_limit") else "normal")
    customer = ctx.customer.model_dump(mode="json") if ctx.customer else None
    language = state.screen.language if state.screen else "en"
    existing = services.store.get(state.turn.tenant_id, escalation.TICKETS, state.turn.conversation_id)
    result = escalation.open_ticket(services.store, tenant_id=state.turn.tenant_id,
                                    conversation_id=state.turn.conversation_id, reason=reason, language=language,
                                    transcript=transcript, customer=customer, priority=priority, created_at=_now())
    if existing is None and result.ticket_id:
        # A new ticket: a human hand-off starts listening for the agent's reply (see blueprints/handoff.py).
        job = HandoffJob(tenant_id=state.turn.tenant_id, conversation_id=state.turn.conversation_id,
                         ticket_id=result.ticket_id, language=language,
                         timeout_minutes=ctx.tenant.escalation.human_handoff_timeout_minutes)
        services.queue.send(services.settings.ESCALATION_QUEUE_NAME, job.model_dump_json())
    return result


def _language(state: TurnState) -> Language:
    if state.intent is not None:
        return state.intent.language
    return state.screen.language if state.screen else "en"


def known_entities(state: TurnState):
    """Values that identify this customer, always tokenized before a third-party model sees them: the shop's own
    customer record and orders when the customer is known (every form of their name, phone and address), plus
    what this conversation revealed (emails, order and tracking numbers)."""
    from core.pii import KnownEntities
    from core.pii.spans import Label

    ctx = state.context
    customer = ctx.customer if ctx else None
    claimed = ctx.claimed_customer if ctx else None
    if customer is None and claimed is not None:
        customer = claimed  # unverified, but still this customer's own values: tokenized all the same
    emails = [e for e in ([customer.email] if customer and customer.email else []) +
              ([ctx.verified_email] if ctx and ctx.verified_email else []) +
              (state.intent.entities.emails if state.intent else []) if e]
    record = None
    if emails:
        wanted = {e.lower() for e in emails}
        record = next((d.body for d in get_services().store.list(state.turn.tenant_id, "customers", limit=100_000)
                       if str(d.body.get("email", "")).lower() in wanted), None)
    known = KnownEntities.from_shopify(record, [])
    if customer and customer.name:
        first, _, last = customer.name.partition(" ")
        known.add(Label.PERSON, customer.name)
        known.add(Label.PERSON, first)
        if last:
            known.add(Label.PERSON, last)
    if customer and customer.id:
        known.add(Label.CUSTOMER_ID, customer.id)
    for email in emails:
        known.add(Label.EMAIL, email)
    for order in state.facts.orders:
        known.add(Label.ORDER_NUMBER, order.order_number)
        if order.tracking_number:
            known.add(Label.TRACKING_NUMBER, order.tracking_number)
    return known


def needs_cited_products(state: TurnState) -> bool:
    """Pure rule for the orchestrator: a product question whose product the catalogue lookup did not recognise by
    name ("¿tienen jabón de lavanda?", "the Darjeeling") but whose product page was retrieved."""
    return (state.intent is not None and state.intent.label == "product_info" and not state.facts.products
            and any(c.doc_id.startswith("product-") for c in state.citations[:2]))


def products_from_citations(state: TurnState) -> list[ProductFacts]:
    """Live stock and price of the products whose pages the turn cited (at most two), in citation order."""
    tenant = state.context.tenant if state.context else None
    handles = [c.doc_id.removeprefix("product-") for c in state.citations[:2] if c.doc_id.startswith("product-")]
    if not handles or tenant is None:
        return []
    from core.integrations.shop_sandbox import product_facts

    found = [p for p in ShopSandbox(get_services().store).all_products(state.turn.tenant_id)
             if p.get("handle") in handles]
    found.sort(key=lambda p: handles.index(p["handle"]))
    return [product_facts(p, tenant.currency, tenant.shop_url) for p in found]


def compose_response(state: TurnState) -> Draft:
    assert state.screen is not None and state.context is not None
    intent_result = state.intent or IntentResult(label="blocked", confidence=1.0, language=state.screen.language)
    language = _language(state)
    offline_draft = response.compose(state.turn.message, verdict=state.screen, intent=intent_result,
                                     citations=state.citations, facts=state.facts, escalation=state.escalation,
                                     language=language, documents=cited_documents(state, limit=2))
    if state.screen.blocked:
        return offline_draft  # a blocked message never reaches a model
    tenant = state.context.tenant
    return response.compose_with_model(
        get_services().llm, state.turn.message, offline_draft=offline_draft, tenant_id=state.turn.tenant_id,
        conversation_id=state.turn.conversation_id, known_entities=known_entities(state),
        always_tokenize=tenant.pii_tokenization == "always", language=language, shop_name=tenant.name,
        brand_voice=tenant.brand_voice, history=state.context.history, citations=state.citations, facts=state.facts,
        escalation=state.escalation, retry_feedback=state.retry_feedback,
    )


def cited_documents(state: TurnState, limit: int = 1) -> dict[str, str]:
    """Full text of the top cited documents (the offline answer picks its sentences from the whole document)."""
    store = get_services().store
    out: dict[str, str] = {}
    for citation in state.citations[:limit]:
        stored = store.get(state.turn.tenant_id, "kb", citation.doc_id)
        if stored is not None:
            out[citation.doc_id] = stored.body.get("content", "")
    return out


def context_text(state: TurnState) -> str:
    parts = [state.turn.message, state.facts.model_dump_json()]
    parts.extend(c.passage for c in state.citations)
    parts.extend(cited_documents(state, limit=2).values())
    if state.escalation.ticket_id:
        parts.append(state.escalation.ticket_id)
    return "\n".join(parts)


def other_customer_values(state: TurnState) -> list[str]:
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
    customer = ctx.customer
    own = {fold(v) for v in (customer.email if customer else None, customer.name if customer else None,
                             ctx.verified_email, *state.intent.entities.emails) if v}
    own |= {fold(o.tracking_number) for o in state.facts.orders if o.tracking_number}
    shop = ShopSandbox(get_services().store)
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


def review_response(state: TurnState) -> OutputVerdict:
    assert state.draft is not None
    return critic.check_output(state.draft, context_text=context_text(state), expected_language=_language(state),
                               other_customer_values=other_customer_values(state))


def fallback_response(state: TurnState) -> Draft:
    return response.fallback(_language(state))


def record_turn(state: TurnState) -> RecordedTurn:
    """Persist the turn and slots; build the API result and the turn's analytics event."""
    services = get_services()
    turn = state.turn
    assert state.draft is not None and state.screen is not None
    language = state.draft.language
    label = state.intent.label if state.intent else "blocked"
    answered = state.draft.grounded
    event_notices(state)  # issue 7: waitlist capture + announcement mention
    record = TurnRecord(turn_id=turn.turn_id, at=_now(), user=turn.message, reply=state.draft.reply, intent=label,
                        language=language, escalated=state.escalation.escalated, answered=answered)

    def mutate(conv: ConversationState) -> None:
        if any(t.turn_id == turn.turn_id for t in conv.turns):
            return  # activity retried after the write landed: record once
        conv.created_at = conv.created_at or record.at
        conv.updated_at = record.at
        conv.language = language
        if turn.customer and conv.customer is None:
            conv.customer = turn.customer
        if state.intent and state.intent.entities.order_numbers:
            conv.slots.order_number = state.intent.entities.order_numbers[0]
            conv.slots.order_from_list = False
        elif (state.intent and state.intent.label == "order_status" and state.facts.orders
              and not (state.context and state.context.order_number and not state.context.order_from_list)):
            # The customer's orders were listed, most recent first: "where is it now?" is about the latest one.
            conv.slots.order_number = state.facts.orders[0].order_number
            conv.slots.order_from_list = True
        if state.facts.products:
            conv.slots.product_ids = [p.doc_id for p in state.facts.products]
        elif state.draft and any(c.doc_id.startswith("product-") for c in state.draft.citations):
            conv.slots.product_ids = [c.doc_id for c in state.draft.citations if c.doc_id.startswith("product-")]
        if state.intent and state.intent.entities.emails and state.facts.order_lookup == "found":
            conv.slots.verified_email = state.intent.entities.emails[0]
        if state.escalation.ticket_id:
            conv.ticket_id = state.escalation.ticket_id
        conv.turns.append(record)

    conversations.update(services.store, turn.tenant_id, turn.conversation_id, mutate)
    result = TurnResult(
        tenant_id=turn.tenant_id, conversation_id=turn.conversation_id, turn_id=turn.turn_id,
        reply=state.draft.reply, language=language, intent=label,
        confidence=state.intent.confidence if state.intent else 1.0,
        citations=state.draft.citations, escalation=state.escalation,
        guardrail=Guardrail(blocked=state.screen.blocked, reasons=[*state.screen.reasons, *state.guardrail_reasons]),
        usage=Usage().plus(state.intent.usage if state.intent else None).plus(state.draft.usage),
        trace_id=turn.trace_id,
    )
    event = analytics.TurnEvent(
        event_id=turn.turn_id, tenant_id=turn.tenant_id, conversation_id=turn.conversation_id, at=record.at,
        intent=label, language=language, confidence=result.confidence, escalated=state.escalation.escalated,
        blocked=state.screen.blocked, grounded=answered, citations=len(result.citations),
    )
    return RecordedTurn(result=result, event=event)


def publish_turn_event(event: analytics.TurnEvent) -> None:
    """Queue the turn's analytics event (the analytics agent counts each ``event_id`` once, so a retried send is
    harmless)."""
    services = get_services()
    services.queue.send(services.settings.ANALYTICS_QUEUE_NAME, event.model_dump_json())


def event_notices(state: TurnState) -> None:
    """Issue 7 (core/events), appended after the critic: a "tell me when it's back" request puts the customer on
    the product's back-in-stock waitlist, and an active announcement is mentioned once per conversation."""
    from core.events import operations, waitlist

    if state.draft is None or state.screen is None or state.screen.blocked:
        return
    store, turn, language = get_services().store, state.turn, state.draft.language
    ctx = state.context
    customer = turn.customer or (ctx.customer if ctx else None)
    emails = [e for e in (customer.email if customer else None, ctx.verified_email if ctx else None,
                          *(state.intent.entities.emails if state.intent else [])) if e]
    captured = waitlist.capture(store, turn.tenant_id, turn.conversation_id, turn.message,
                                products=state.facts.products, emails=emails, language=language)
    if captured:
        state.draft.reply += response.T[f"waitlist_{captured[0]}"][language].format(title=captured[1])
    mention = operations.mention_for(store, turn.tenant_id, turn.conversation_id, language)
    if mention:
        state.draft.reply += response.T["announcement"][language].format(text=mention)


def new_turn_id() -> str:
    return uuid.uuid4().hex
