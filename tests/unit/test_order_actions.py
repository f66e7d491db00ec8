"""The order-action policy (core.actions.policy), each refusal and each guarantee, on both shop implementations:
the tenant's imported orders, and the Shopify Admin adapter against the local Shopify stand-in."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from core import audit
from core.actions import ledger, orders, tools, words
from core.actions.dialogue import Dialogue
from core.actions.policy import ActionContext, ActionGuard, Refusal
from core.config import load_settings
from core.devhost.standins import shopify_admin
from core.devhost.standins.serve import StandIns
from core.integrations.imported_actions import ImportedShopActions
from core.integrations.imported_shop import ImportedShop, order_facts
from core.integrations.order_changes import returns_of
from core.integrations.shopify import ShopifyClient, ShopifyShopData
from core.integrations.shopify_actions import ShopifyShopActions
from core.models import CustomerRef
from core.stores.memory_store import MemoryDocumentStore
from core.tenants import get_tenant, import_tenant

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "knowledge/tenants/demo"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # #1027 was delivered on 2026-11-13, #1001 in December 2025
MARIE, EMILY = "marie-eve.gagnon@example.com", "emily.chen@example.com"


@pytest.fixture(scope="module")
def standins():
    with StandIns({"demo": DEMO}) as running:
        yield running


@pytest.fixture(params=["imported", "shopify"])
def world(request, standins):
    """A guard over the demo shop's orders, with what it published; the shop as its files have it."""
    store = MemoryDocumentStore()
    import_tenant("demo", DEMO, store, index=False)
    settings = load_settings(DOCUMENT_STORE="memory", EVENT_QUEUE="memory")
    if request.param == "imported":
        shop, actions = ImportedShop(store), ImportedShopActions(store)
    else:
        standins.shops["demo.myshopify.com"].orders = shopify_admin.Shop.from_folder(DEMO, "x").orders
        client = ShopifyClient("demo", "demo.myshopify.com", "local-shopify-token-demo",
                               url_template=standins.settings()["SHOPIFY_API_URL"], max_attempts=1)
        shop = ShopifyShopData(client)
        actions = ShopifyShopActions(client, shop)
    published: list = []
    guard = ActionGuard(shop=shop, actions=actions, store=store, settings=settings, publish=published.extend)
    return guard, store, published


def context(store, *, emails=(), verified=None, owner=None, pending=None, conversation="conv-0001",
            refund_limit: float | None = None) -> ActionContext:
    tenant = get_tenant("demo", store)
    if refund_limit is not None:
        tenant = tenant.model_copy(update={"escalation": tenant.escalation.model_copy(
            update={"refund_auto_approve_limit": refund_limit})})
    return ActionContext(tenant=tenant, conversation_id=conversation, now=NOW,
                         verified=verified, emails=list(emails), owner=owner, pending=pending)


def refusal(call) -> Refusal:
    with pytest.raises(Refusal) as caught:
        call()
    return caught.value


def proposed_and_confirmed(guard, ctx, tool, args, message="yes"):
    ctx.pending = guard.propose(ctx, tool, args)
    return guard.confirm(ctx, ctx.pending.proposal_id, message)


# Who may act -------------------------------------------------------------------------------------------------------
def test_nobody_acts_without_proving_the_order_is_theirs(world):
    guard, store, published = world
    assert refusal(lambda: guard.propose(context(store), "cancel_order", {"order": "1038"})).code == "not_authenticated"
    # Someone else's e-mail, and an order that does not exist: the same refusal, so no number is confirmed to exist.
    stranger = context(store, emails=["stranger@example.com"])
    assert refusal(lambda: guard.propose(stranger, "cancel_order", {"order": "1038"})).code == "not_owner"
    owner = context(store, emails=[MARIE])
    assert refusal(lambda: guard.propose(owner, "cancel_order", {"order": "999999"})).code == "not_owner"
    # The shop's signed-in customer needs no e-mail; a signed-in customer is not someone else's owner either.
    assert guard.propose(context(store, verified=CustomerRef(email=MARIE)), "cancel_order", {"order": "1038"})
    assert refusal(lambda: guard.propose(context(store, verified=CustomerRef(email=EMILY)), "cancel_order",
                                         {"order": "1038"})).code == "not_owner"
    assert published == []
    refused = [r["outcome"] for r in audit.list_records(store, "demo") if r["action"] == "order.cancel_order"]
    assert refused == ["refused:not_owner"] * 3 and "stranger" not in str(audit.list_records(store, "demo"))


def test_a_conversation_acts_for_one_customer(world):
    guard, store, _ = world
    # Emily proved who she is in this conversation; Marie-Ève's e-mail typed later does not open Marie-Ève's orders.
    ctx = context(store, emails=[MARIE, EMILY], owner=f"email:{EMILY}")
    assert refusal(lambda: guard.propose(ctx, "cancel_order", {"order": "1038"})).code == "other_customer"


def test_a_shop_that_turned_actions_off_gets_none(world):
    guard, store, _ = world
    ctx = context(store, emails=[MARIE])
    ctx.tenant = ctx.tenant.model_copy(update={"actions": ctx.tenant.actions.model_copy(update={"enabled": False})})
    assert refusal(lambda: guard.propose(ctx, "cancel_order", {"order": "1038"})).code == "disabled"


def test_arguments_are_checked_against_the_tools_schema(world):
    guard, store, _ = world
    ctx = context(store, emails=[MARIE])
    bad = refusal(lambda: guard.propose(ctx, "refund", {"order": "1038", "amount": "lots"}))
    assert bad.code == "invalid_arguments" and bad.details["fields"] == ["amount"]
    extra = refusal(lambda: guard.propose(ctx, "cancel_order", {"order": "1038", "restock": False}))
    assert extra.code == "invalid_arguments" and extra.details["fields"] == ["restock"]
    assert refusal(lambda: guard.propose(ctx, "delete_order", {"order": "1038"})).code == "invalid_arguments"
    # A line of another order is not one of this order's.
    emily = context(store, emails=[EMILY])
    wrong = refusal(lambda: guard.propose(emily, "start_return", {"order": "1027", "items": [
        {"line_item_id": "1", "quantity": 1}]}))
    assert wrong.code == "invalid_arguments"


# What the order's state allows ---------------------------------------------------------------------------------------
def test_status_graphs_decide_what_each_order_allows(world):
    guard, store, _ = world
    marie, emily = context(store, emails=[MARIE]), context(store, emails=[EMILY])
    ryan = context(store, emails=["ryan.macdonald@example.net"])
    jessica = context(store, emails=["jessica.miller@example.com"])
    delivered = refusal(lambda: guard.propose(emily, "cancel_order", {"order": "1027"}))
    assert (delivered.code, delivered.offer) == ("shipped", "start_return")  # a return is offered instead
    in_transit = refusal(lambda: guard.propose(jessica, "cancel_order", {"order": "1030"}))
    assert (in_transit.code, in_transit.offer) == ("shipped", None)
    assert refusal(lambda: guard.propose(jessica, "start_return", {"order": "1030", "items": [
        {"line_item_id": "1", "quantity": 1}]})).code == "not_delivered"
    assert refusal(lambda: guard.propose(ryan, "cancel_order", {"order": "1015"})).code == "already_cancelled"
    address = {"address1": "45 Oak Street", "city": "Toronto"}
    assert refusal(lambda: guard.propose(emily, "change_shipping_address", {"order": "1027", "address": address})
                   ).code == "shipped"
    line = guard.shop.find_order("demo", "1038")["line_items"][0]
    assert refusal(lambda: guard.propose(marie, "start_return", {"order": "1038", "items": [
        {"line_item_id": str(line["id"]), "quantity": 1}]})).code == "not_shipped"
    old = guard.shop.find_order("demo", "1001")["line_items"][0]
    outside = refusal(lambda: guard.propose(marie, "start_return", {"order": "1001", "items": [
        {"line_item_id": str(old["id"]), "quantity": 1}]}))
    assert (outside.code, outside.details["days"]) == ("outside_return_window", 30)
    too_much = refusal(lambda: guard.propose(emily, "refund", {"order": "1027", "amount": "500"}))
    assert (too_much.code, too_much.details["left"]) == ("refund_too_much", "79.04")


def test_an_item_the_shop_marks_final_sale_is_neither_returned_nor_exchanged(world, monkeypatch):
    guard, store, _ = world
    emily = context(store, emails=[EMILY])
    line = guard.shop.find_order("demo", "1027")["line_items"][0]
    args = {"order": "1027", "items": [{"line_item_id": str(line["id"]), "quantity": 1}]}
    assert guard.propose(emily, "start_return", args).tool == "start_return"  # not marked: the return is proposed
    monkeypatch.setattr(guard.shop, "get_product", lambda tenant, product_id: {"tags": "clearance, Final Sale"})
    monkeypatch.setattr(guard.shop, "all_products", lambda tenant: [{"tags": ["Venta final"],
                                                                      "variants": [{"sku": line.get("sku")}]}])
    for tool in ("start_return", "start_exchange"):
        final = refusal(lambda tool=tool: guard.propose(context(store, emails=[EMILY]), tool, {**args, **(
            {"reason": "size_too_small"} if tool == "start_exchange" else {})}))
        assert (final.code, final.details["items"]) == ("final_sale", [orders.line_label(line)])


def test_the_guard_refuses_a_return_the_returns_page_excludes_and_quotes_it(world):
    guard, store, _ = world
    line = guard.shop.find_order("demo", "1027")["line_items"][0]
    args = {"order": "1027", "items": [{"line_item_id": str(line["id"]), "quantity": 1}]}
    seen = []
    guard.exclusions = lambda tenant, language, item: seen.append((tenant, language, item.title)) or None
    assert guard.propose(context(store, emails=[EMILY]), "start_return", args).tool == "start_return"
    assert seen and seen[0][:2] == ("demo", "en") and seen[0][2] == line["title"]
    clause = "Personalised, engraved or custom items."
    guard.exclusions = lambda tenant, language, item: clause
    for tool in ("start_return", "start_exchange"):
        refused = refusal(lambda tool=tool: guard.propose(context(store, emails=[EMILY]), tool, args))
        assert (refused.code, refused.details["clause"]) == ("excluded_by_policy", clause)
    talk = Dialogue(guard, context(store, emails=[EMILY]), "en", "I want to return it", ["1027"], [], "1027")
    reply = talk.refused(refused).reply
    assert clause in reply and "person" in reply


def test_an_unreadable_returns_page_leaves_the_item_to_its_own_marks(world):
    guard, store, _ = world
    line = guard.shop.find_order("demo", "1027")["line_items"][0]

    def broken(tenant, language, item):
        raise RuntimeError("search down")

    guard.exclusions = broken
    args = {"order": "1027", "items": [{"line_item_id": str(line["id"]), "quantity": 1}]}
    assert guard.propose(context(store, emails=[EMILY]), "start_return", args).tool == "start_return"


@pytest.mark.parametrize(("texts", "marked"), [
    (("Slide Sandal: Last Pairs (Final Sale)", ""), True), (("Bol", "Vente finale"), True),
    (("", "", "VENTA FINAL, outlet"), True), (("Final Fantasy poster", "Sale price"), False)])
def test_final_sale_is_read_from_an_items_title_variant_or_tags(texts, marked):
    assert words.marks_final_sale(*texts) is marked


# Confirmation --------------------------------------------------------------------------------------------------------
def test_nothing_is_written_without_an_explicit_yes_to_that_proposal(world):
    guard, store, published = world
    ctx = context(store, emails=[MARIE])
    ctx.pending = guard.propose(ctx, "cancel_order", {"order": "1038"})
    for message in ("maybe", "no", "yes but not the gift sets", "ok, wait"):
        assert refusal(lambda m=message: guard.confirm(ctx, ctx.pending.proposal_id, m)).code == "not_confirmed"
    assert refusal(lambda: guard.confirm(ctx, "another-proposal", "yes")).code == "no_proposal"
    assert refusal(lambda: guard.confirm(context(store, emails=[MARIE]), ctx.pending.proposal_id, "yes")
                   ).code == "no_proposal"
    assert order_facts(guard.shop.find_order("demo", "1038")).status == "unfulfilled"
    assert published == []


def test_an_order_changed_since_the_proposal_is_not_acted_on(world):
    guard, store, published = world
    ctx = context(store, emails=[MARIE])
    ctx.pending = guard.propose(ctx, "cancel_order", {"order": "1038"})
    # Meanwhile the address changes (another conversation, the shop's admin): the customer confirmed another order.
    guard.actions.change_shipping_address("demo", "1038", {"address1": "1 New Street", "city": "Laval"},
                                          action_id="A-elsewhere")
    assert refusal(lambda: guard.confirm(ctx, ctx.pending.proposal_id, "oui")).code == "order_changed"
    assert order_facts(guard.shop.find_order("demo", "1038")).status == "unfulfilled"
    assert published == []


def test_a_confirmed_cancellation_happens_once_is_audited_and_published(world):
    guard, store, published = world
    ctx = context(store, emails=[MARIE], refund_limit=500)
    first = proposed_and_confirmed(guard, ctx, "cancel_order", {"order": "1038"}, "Yes, go ahead!")
    order = guard.shop.find_order("demo", "1038")
    assert first.status == "done" and order["cancelled_at"] and order["financial_status"] == "refunded"
    refunds = len(order["refunds"])
    # The same confirmation again (a retried turn, a replayed activity): the same outcome, no second write.
    again = guard.confirm(ctx, ctx.pending.proposal_id, "yes")
    assert again == first and len(guard.shop.find_order("demo", "1038")["refunds"]) == refunds
    assert [e.type for e in published] == ["shopdesk.orders.changed"]
    assert published[0].data["tool"] == "cancel_order" and published[0].id
    assert ledger.done(store, "demo", first.action_id)["outcome"]["status"] == "done"
    [record] = [r for r in audit.list_records(store, "demo") if r["action"] == "order.cancel_order"]
    assert record["outcome"] == "done" and MARIE not in str(record)  # audited, by reference only


def test_an_event_the_bus_refused_is_published_by_the_retry_without_writing_again(world):
    guard, store, published = world
    sent: list = []

    def flaky(events):
        if not sent:
            sent.append("refused")
            raise ConnectionError("event bus unavailable")
        published.extend(events)

    guard.publish = flaky
    ctx = context(store, emails=[MARIE], refund_limit=500)
    ctx.pending = guard.propose(ctx, "cancel_order", {"order": "1038"})
    with pytest.raises(ConnectionError):
        guard.confirm(ctx, ctx.pending.proposal_id, "yes")  # the activity fails after the write; Durable retries it
    refunds = len(guard.shop.find_order("demo", "1038")["refunds"])
    result = guard.confirm(ctx, ctx.pending.proposal_id, "yes")
    assert result.status == "done" and len(guard.shop.find_order("demo", "1038")["refunds"]) == refunds
    assert [e.type for e in published] == ["shopdesk.orders.changed"]
    guard.confirm(ctx, ctx.pending.proposal_id, "yes")
    assert len(published) == 1  # published once it went through


def test_cancelling_a_paid_order_above_the_refund_limit_asks_a_person_and_writes_nothing(world):
    guard, store, published = world
    ctx = context(store, emails=[MARIE])  # the demo shop approves refunds up to 50; order 1038 paid 158.21
    ctx.pending = guard.propose(ctx, "cancel_order", {"order": "1038"})
    assert ctx.pending.approval and ctx.pending.details["amount"] == "158.21"
    result = guard.confirm(ctx, ctx.pending.proposal_id, "yes")
    assert result.status == "approval_requested" and published == []
    assert not guard.shop.find_order("demo", "1038")["cancelled_at"]


def test_a_pending_payment_is_voided_not_refunded(world):
    guard, store, _ = world
    ctx = context(store, emails=["sophie.bouchard@example.org"])
    proposed_and_confirmed(guard, ctx, "cancel_order", {"order": "1040"}, "confirm")
    order = guard.shop.find_order("demo", "1040")
    assert order["financial_status"] == "voided" and not order.get("refunds")


def test_a_return_of_delivered_items_is_recorded_on_the_order(world):
    guard, store, published = world
    ctx = context(store, emails=[EMILY])
    line = guard.shop.find_order("demo", "1027")["line_items"][0]
    result = proposed_and_confirmed(guard, ctx, "start_return", {
        "order": "1027", "items": [{"line_item_id": str(line["id"]), "quantity": 1}], "reason": "defective"}, "sí")
    order = guard.shop.find_order("demo", "1027")
    assert result.details["return_id"].startswith("R-")
    assert [r["id"] for r in returns_of(order)] == [result.details["return_id"]]
    assert order_facts(order).returns == [result.details["return_id"]]
    assert "return-requested" in order["tags"]
    assert published[0].type == "shopdesk.returns.started" and published[0].data["return_id"]


def test_refunds_up_to_the_limit_are_made_and_above_it_go_to_a_person(world):
    guard, store, published = world
    ctx = context(store, emails=[EMILY])
    small = proposed_and_confirmed(guard, ctx, "refund", {"order": "1027", "amount": "20"})
    order = guard.shop.find_order("demo", "1027")
    assert small.status == "done" and order["financial_status"] == "partially_refunded"
    again = guard.confirm(ctx, ctx.pending.proposal_id, "yes")
    assert again == small and len(guard.shop.find_order("demo", "1027")["refunds"]) == len(order["refunds"])
    large = context(store, emails=[MARIE], conversation="conv-0002")
    approval = proposed_and_confirmed(guard, large, "refund", {"order": "1024", "amount": "70"})
    assert large.pending.approval and approval.status == "approval_requested"
    assert not guard.shop.find_order("demo", "1024").get("refunds")  # nothing refunded without a person
    assert [e.data["tool"] for e in published] == ["refund"]


def test_a_new_address_on_an_unshipped_order(world):
    guard, store, _ = world
    ctx = context(store, emails=["valentina.ramirez@example.com"])
    result = proposed_and_confirmed(guard, ctx, "change_shipping_address", {"order": "1039", "address": {
        "address1": "45 Oak Street", "city": "Toronto", "province": "ON", "zip": "M5V 2T6"}})
    assert result.details["address"] == "45 Oak Street, Toronto, ON, M5V 2T6"
    shipping = guard.shop.find_order("demo", "1039")["shipping_address"]
    assert (shipping["address1"], shipping["city"], shipping["zip"]) == ("45 Oak Street", "Toronto", "M5V 2T6")


def test_changed_items_on_the_imported_orders_and_a_person_on_shopify(world):
    guard, store, _ = world
    ctx = context(store, emails=[MARIE])
    order = guard.shop.find_order("demo", "1038")
    line = order["line_items"][0]
    result = proposed_and_confirmed(guard, ctx, "change_items", {"order": "1038", "changes": [
        {"variant_id": str(line["variant_id"]), "quantity": 0}]})
    after = guard.shop.find_order("demo", "1038")
    if isinstance(guard.actions, ShopifyShopActions):  # order edits are GraphQL-only on Shopify
        assert result.status == "approval_requested" and after["line_items"] == order["line_items"]
    else:
        assert result.status == "done" and len(after["line_items"]) == len(order["line_items"]) - 1
        assert float(after["total_price"]) < float(order["total_price"])


def test_each_shop_write_is_idempotent_by_its_action_id(world):
    """A crash between the shop's write and the ledger's record: the retried write changes nothing more."""
    guard, _, _ = world
    shop = guard.actions
    for _ in range(2):
        shop.refund("demo", "1027", "5.00", currency="CAD", note="chat", action_id="A-refund-1")
        shop.record_return("demo", "1027", {"id": "R-1", "kind": "return", "items": ["1 × soap"], "reason": "other"},
                           action_id="A-return-1")
        shop.cancel_order("demo", "1038", reason="customer", action_id="A-cancel-1")
    order = guard.shop.find_order("demo", "1027")
    assert len(order["refunds"]) == 1 and [r["id"] for r in returns_of(order)] == ["R-1"]
    assert len(guard.shop.find_order("demo", "1038")["refunds"]) == 1


# The dialogue's words ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("message", ["yes", "Yes!", "yes please", "Oui", "oui, merci", "Sí", "si por favor",
                                     "confirm", "Je confirme."])
def test_an_explicit_yes_in_each_language(message):
    assert words.confirms(message)


@pytest.mark.parametrize("message", ["no", "non", "yes but not the soap", "maybe", "what would it cost?", "ok wait",
                                     "sí, pero no el jabón"])
def test_anything_else_is_not_a_yes(message):
    assert not words.confirms(message)


@pytest.mark.parametrize(("message", "tool"), [
    ("Please cancel my order 1038", "cancel_order"), ("Pouvez-vous annuler la commande 1038?", "cancel_order"),
    ("Quiero cancelar el pedido 1038", "cancel_order"),
    ("I need to change the delivery address of order 1039", "change_shipping_address"),
    ("Je veux retourner ma commande 1027", "start_return"), ("Quiero devolver el pedido 1027", "start_return"),
    ("I'd like a refund for order 1027", "refund"), ("Je voudrais échanger le savon", "start_exchange"),
    ("Cancel it.", "cancel_order"), ("Annulez-la", "cancel_order"), ("Cancela mi pedido", "cancel_order"),
])
def test_action_requests_in_each_language(message, tool):
    assert words.tool_asked(message) == tool and words.is_request(message)


@pytest.mark.parametrize("message", ["How do I return an item?", "What is your cancellation policy?",
                                     "Comment faire un retour?", "¿Cómo puedo devolver un producto?"])
def test_questions_about_the_policy_are_not_requests(message):
    assert not words.is_request(message)


def test_every_tool_has_a_function_calling_schema():
    schemas = {s["function"]["name"]: s["function"]["parameters"] for s in tools.schemas()}
    assert set(schemas) == set(tools.TOOLS)
    assert all("order" in p["required"] and p["additionalProperties"] is False for p in schemas.values())
