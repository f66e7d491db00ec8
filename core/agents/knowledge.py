"""Knowledge agent: retrieves cited passages from the tenant's KB and live shop facts (orders, stock, prices)."""

from __future__ import annotations

from core.integrations.shop_sandbox import ShopSandbox, order_facts, owns, product_facts
from core.models import Citation, CustomerRef, IntentResult, ShopFacts
from core.rag.retrieval import KnowledgeSearch

ORDER_INTENTS = {"order_status", "returns_refunds", "complaint_escalation"}


def retrieve(search: KnowledgeSearch, tenant_id: str, query: str, language: str, *, k: int,
             min_score: float) -> list[Citation]:
    hits = search.search(tenant_id, query, k=k, lang=language)
    return [
        Citation(doc_id=h.doc_id, title=h.title, url=h.url, score=h.score, passage=h.passage, lang=h.lang)
        for h in hits
        if h.score >= min_score
    ]


def shop_facts(shop: ShopSandbox, tenant_id: str, message: str, intent: IntentResult, *,
               customer: CustomerRef | None, slot_order: str | None, slot_products: list[str],
               verified_email: str | None, currency: str, shop_url: str | None,
               claimed_email: str | None = None) -> ShopFacts:
    """Orders are disclosed only to their owner. ``customer`` is the verified (shop-signed) customer: their own
    orders may be listed. Anyone else proves ownership of one order by its number plus the e-mail on it, typed in
    this conversation (or named, unverified, in the chat body: ``claimed_email``)."""
    facts = ShopFacts(customer_known=customer is not None)
    email = (intent.entities.emails[:1] or [verified_email or claimed_email])[0]
    proofs = [p for p in (customer, CustomerRef(email=email) if email else None) if p is not None]

    numbers = intent.entities.order_numbers or ([slot_order] if slot_order and intent.label in ORDER_INTENTS else [])
    if numbers:
        facts.order_lookup = "not_found"
        for number in numbers[:3]:
            order = shop.find_order(tenant_id, number)
            if order is None:
                continue
            if any(owns(order, proof) for proof in proofs):
                facts.orders.append(order_facts(order))
                facts.order_lookup = "found"
            elif facts.order_lookup != "found":
                facts.order_lookup = "needs_verification"
    elif intent.label == "order_status" and customer is not None and (customer.id or customer.email):
        recent = shop.orders_for(tenant_id, customer)[:3]
        facts.orders = [order_facts(o) for o in recent]
        facts.order_lookup = "found" if recent else "not_found"
    # Anyone else with an e-mail but no order number is asked for the number: an e-mail alone lists no orders.

    matches = shop.match_products(tenant_id, message)
    products = [p for p, _ in matches]
    if not products and slot_products and intent.label == "product_info":
        # Slots hold product document ids ("product-<handle>"); older conversations may hold product ids.
        wanted = slot_products[:2]
        products = [p for p in (shop.get_product(tenant_id, pid) for pid in wanted if not pid.startswith("product-"))
                    if p]
        handles = {pid.removeprefix("product-") for pid in wanted if pid.startswith("product-")}
        if handles:
            products += [p for p in shop.all_products(tenant_id) if p.get("handle") in handles]
    facts.products = [product_facts(p, currency, shop_url) for p in products]
    return facts
