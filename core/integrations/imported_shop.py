"""The shop data a chat turn reads: the tenant's imported Shopify Admin exports (orders, products, customers) in the
document store (``python -m core.tenants import``, kept current by the Shopify webhooks).

It answers the same questions from the same shapes as the Shopify Admin API adapter (``core.integrations.shopify``),
and holds the catalogue matching and the order and product facts both adapters share.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
import threading
import time
import weakref
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core import lexicon
from core.glossary import DESK_TOPICS_PATH, GLOSSARY_PATH, default_glossary, load_entries
from core.language import detect as detect_language
from core.models import CustomerRef, OrderFacts, ProductFacts
from core.rag.documents import variant_availability
from core.rag.places import gazetteer
from core.stores.ports import DocumentStore
from core.text import STOPWORDS, fold, tokens

from .order_changes import returns_of

# Words that name a product category rather than a product: they must not carry a match on their own.
_GENERIC = set(
    "the a an of and with for to in our your my is it do you have any organic natural handmade "
    "de la le les du des et en un une el los las con sin para".split()
)


# Catalogues read for matching with a staleness budget (see match_products):
# store -> tenant -> (expires at, product count, products, idf, each product's terms, the rankings of the texts
# matched on it: a turn matches its message more than once, for the intent and for the shop's facts).
_CatalogEntry = tuple[float, int, list[dict[str, Any]], dict[str, float], list["ProductTerms"],
                      dict[tuple[str, int], list[tuple[dict[str, Any], float]]]]
_RANKINGS_KEPT = 256
_shared_catalogs: weakref.WeakKeyDictionary[Any, dict[str, _CatalogEntry]] = weakref.WeakKeyDictionary()
_shared_lock = threading.Lock()


class ImportedShop:
    """``ShopData`` over the tenant's imported Shopify exports (collections orders / products / customers)."""

    def __init__(self, store: DocumentStore):
        self._store = store

    # Orders -----------------------------------------------------------------------------------------------
    def find_order(self, tenant_id: str, number: str) -> dict[str, Any] | None:
        stored = self._store.get(tenant_id, "orders", re.sub(r"\D", "", number))
        return stored.body if stored else None

    def orders_for(self, tenant_id: str, customer: CustomerRef) -> list[dict[str, Any]]:
        out = []
        for stored in self._store.list(tenant_id, "orders", limit=100_000):
            if owns(stored.body, customer):
                out.append(stored.body)
        return sorted(out, key=lambda o: o.get("created_at") or "", reverse=True)

    # Catalog ----------------------------------------------------------------------------------------------
    def _catalog(self, tenant_id: str) -> tuple[list[dict[str, Any]], dict[str, float]]:
        """The catalogue as the store has it now (read each time: a long-lived instance must never serve a renamed
        or repriced product stale)."""
        products = self.all_products(tenant_id)
        return products, catalog_idf(products)

    def match_products(self, tenant_id: str, text: str, limit: int = 3, *, max_staleness: float = 0.0
                       ) -> list[tuple[dict[str, Any], float]]:
        """Products whose distinctive title words (or SKU) appear in ``text``, best first.

        ``max_staleness`` > 0: the catalogue the text is matched on may be that many seconds old (the intent agent's
        staleness budget, ``INTENT_CACHE_TTL_SECONDS``), unless its product count changed; it is then shared across
        calls instead of read and parsed for every message. The products returned are read again from the store
        (a point read each), so their prices and stock are current whatever the catalogue's age."""
        if max_staleness <= 0:
            products, idf = self._catalog(tenant_id)
            return rank_products(products, idf, text, limit)
        count = self._store.count(tenant_id, "products")
        with _shared_lock:
            catalogs = _shared_catalogs.setdefault(self._store, {})
            entry = catalogs.get(tenant_id)
        if entry is None or entry[0] < time.monotonic() or entry[1] != count:
            products, idf = self._catalog(tenant_id)
            entry = (time.monotonic() + max_staleness, count, products, idf, [product_terms(p) for p in products], {})
            catalogs[tenant_id] = entry  # one dict item assignment: atomic, no lock needed
        rankings = entry[5]
        ranked = rankings.get((text, limit))
        if ranked is None:
            ranked = rank_products(entry[2], entry[3], text, limit, terms=entry[4])
            if len(rankings) >= _RANKINGS_KEPT:
                rankings.clear()
            rankings[(text, limit)] = ranked
        current = []
        for product, score in ranked:
            stored = self.get_product(tenant_id, str(product.get("id")))
            if stored is not None:  # deleted since the catalogue was read
                current.append((stored, score))
        return current

    def get_product(self, tenant_id: str, product_id: str) -> dict[str, Any] | None:
        stored = self._store.get(tenant_id, "products", product_id)
        return stored.body if stored else None

    def all_products(self, tenant_id: str) -> list[dict[str, Any]]:
        return [d.body for d in self._store.list(tenant_id, "products", limit=100_000)]


@functools.lru_cache(maxsize=16384)
def _title_tokens(title: str) -> tuple[str, ...]:
    """A title's distinct words (cached: every message is matched against the whole catalogue)."""
    return tuple(dict.fromkeys(tokens(title)))


@functools.lru_cache(maxsize=16384)
def _folded(text: str) -> str:
    return fold(text)


def catalog_idf(products: list[dict[str, Any]]) -> dict[str, float]:
    df: Counter[str] = Counter()
    for product in products:
        df.update(_title_tokens(product.get("title", "")))
    n = max(len(products), 1)
    return {t: math.log(1 + n / f) for t, f in df.items()}


@dataclass(frozen=True)
class ProductTerms:
    """What matching reads of one product, the same for every message: its SKUs (accent-folded), the distinct
    words of its title and of its name (``_title_head``) without the category words (``_GENERIC``), and the words of
    its variant names that its title does not hold (a colour, a scent, a material: "la cueva de fieltro en color
    mostaza" names the felt cave's "Mustard")."""

    skus: tuple[str, ...]
    title: tuple[str, ...]
    head: tuple[str, ...]
    options: frozenset[str]
    #: The title's words and, when they differ, the name's, each with whether it holds a word shorter than three
    #: letters and the first three letters of its words.
    names: tuple[tuple[tuple[str, ...], bool, frozenset[str]], ...] = ()
    #: The model codes its title writes ("CT-2", "CF-600", "V60"), folded without the hyphen ("ct2").
    codes: frozenset[str] = frozenset()

    def named_by(self, prefixes: set[str]) -> list[tuple[str, ...]]:
        """The words (the title's, the name's) in which ``_title_score`` can find a word of a text whose words start
        with ``prefixes``: those holding a word shorter than three letters or one whose first three letters are
        among them (``_title_score`` gives 0 to the others)."""
        return [words for words, short, starts in self.names if words and (short or not starts.isdisjoint(prefixes))]


def product_terms(product: dict[str, Any]) -> ProductTerms:
    variants = product.get("variants") or []
    title = product.get("title", "")
    title_words = _title_tokens(title)
    options = {w for v in variants for w in _title_tokens(str(v.get("title") or ""))
               if len(w) >= 4 and w.isalpha() and w not in title_words}
    own = tuple(t for t in title_words if t not in _GENERIC)
    head = tuple(t for t in _title_tokens(_title_head(title)) if t not in _GENERIC)
    return ProductTerms(skus=tuple(_folded(v.get("sku")) for v in variants if v.get("sku")), title=own, head=head,
                        options=frozenset(options), codes=title_codes(title),
                        names=tuple((words, any(len(t) < 3 for t in words), frozenset(t[:3] for t in words))
                                    for words in dict.fromkeys((own, head))))


def rank_products(products: list[dict[str, Any]], idf: dict[str, float], text: str,
                  limit: int = 3, *, terms: list[ProductTerms] | None = None) -> list[tuple[dict[str, Any], float]]:
    """Products whose distinctive title words (or SKU) appear in ``text``, best first (any ShopData adapter).
    ``terms``: each product's :func:`product_terms`, when the caller keeps them with the catalogue."""
    words = set(tokens(text))
    language, confidence = detect_language(text)
    if language != "en" or confidence < 0.5:
        words |= default_glossary().english_words(text)  # French / Spanish words for an English catalogue
    folded = fold(text)
    # A title word matches only a word of the text, its plural or a cognate: all share its first three letters.
    prefixes = {word[:3] for word in words}
    unique = math.log(1 + max(len(products), 1)) - 1e-9  # the idf of a word only one title holds
    asks_stock = bool(_ASKS_STOCK.search(folded))
    scored = []
    if terms is None or len(terms) != len(products):
        terms = [product_terms(p) for p in products]
    option_products = Counter(w for own in terms for w in own.options)
    code_products = Counter(c for own in terms for c in own.codes)
    codes = {c for c in written_codes(folded) if code_products[c] == 1}  # a code one product alone writes
    for product, own in zip(products, terms, strict=True):
        if any(sku in folded for sku in own.skus) or not own.codes.isdisjoint(codes):
            scored.append((product, 1.0))
            continue
        # A long title is matched whole or by its name alone, before what describes it ("Carnet Boréal A5 —
        # couverture lin", "Les Hivers de Limoilou — Anne-Sophie Bérubé", "Juniper Smoke Soap - Final Sale").
        named = len(own.options & words)  # its variant words the text names
        best = max((_title_score(tokens_, words, prefixes, idf, named) for tokens_ in own.named_by(prefixes)),
                   default=0.0)
        if best <= 0 and asks_stock and (_names_own_word(own.head, words, idf, unique)
                                         or _names_own_option(own.options, words, option_products)):
            best = NAME_WORD_SCORE
        if best > 0:
            scored.append((product, round(best, 3)))
    scored.sort(key=lambda item: item[1], reverse=True)
    if scored:
        top = scored[0][1]
        scored = [s for s in scored if s[1] >= top - 0.2]
    return scored[:limit]


def named_accessories(products: list[dict[str, Any]], catalogue: list[dict[str, Any]], text: str
                      ) -> list[dict[str, Any]]:
    """``products`` with each one replaced by the product made for it that ``text`` asks for: a catalogue product
    whose title holds the product's whole title and words of its own that the text names, in its words or in
    English through the retail glossary ("y el repuesto de lavanda?" after the "Reed Diffuser" asks for the "Reed
    Diffuser Refill"). The accessory naming the most of those words wins; a product with none stays, and so does a
    product whose accessory is among ``products`` already (the question asks for both)."""
    words = {fold(w) for w in tokens(text)} | {fold(w) for w in default_glossary().english_words(text)}
    chosen: list[dict[str, Any]] = []
    for product in products:
        own = {fold(w) for w in _title_tokens(product.get("title", ""))}
        best, named = product, 0
        for other in catalogue:
            if other in products:
                continue
            title = {fold(w) for w in _title_tokens(other.get("title", ""))}
            extra = {w for w in title - own if w not in _GENERIC and not w.isdigit()}
            count = sum(w in words or _plural(w) in words for w in extra)
            if own and own < title and count > named:
                best, named = other, count
        if best not in chosen:
            chosen.append(best)
    return chosen


def _title_score(title_words: tuple[str, ...], words: set[str], prefixes: set[str], idf: dict[str, float],
                 variant_words: int = 0) -> float:
    """The share of the title's distinctive weight (idf) that ``words`` name, each variant word they name
    (``variant_words``) counting as one more title word named; 0 below the match threshold."""
    title_tokens = [t for t in title_words if t not in _GENERIC]
    if not title_tokens or all(len(t) >= 3 and t[:3] not in prefixes for t in title_tokens):
        return 0.0
    total = sum(idf.get(t, 1.0) for t in title_tokens) + variant_words
    matched = {t: _word_match(t, words, idf.get(t, 0.0), idf) for t in title_tokens}
    hit = sum(idf.get(t, 1.0) * weight for t, weight in matched.items()) + variant_words
    score = hit / total if total else 0.0
    # At least one matched word must be distinctive (rarer than the catalogue's category words).
    distinctive = any(weight > 0 and idf.get(t, 0) > 1.2 for t, weight in matched.items())
    return score if score >= 0.45 and distinctive else 0.0


# Stock, price and availability questions (en / fr / es phrases in core/agents/data/response.json, accent-folded).
_ASKS_STOCK = lexicon.compile_phrases(lexicon.load("response")["asks_stock"])
#: The score of a product named by a word of its own name that no other title holds ("the powerpuck" for "Petit Volt
#: PowerPuck 10,000 mAh Power Bank") in a stock or price question: just over the match threshold, under any fuller
#: match. (In any other message such a word is too often a common one: "ready", "under", the shop's own name.)
NAME_WORD_SCORE = 0.5
#: A name word is at least this long: shorter unique words are mostly common ones ("kids", "sale", "mini").
NAME_WORD_LETTERS = 5


def _names_own_word(title_words: tuple[str, ...], words: set[str], idf: dict[str, float], unique: float) -> bool:
    """Whether ``words`` hold, as written (or plural), a word of the product's name that no other title of the
    catalogue holds and that is no common word (``_common_words``): a long title full of
    specifications and the brand ("10,000 mAh", "Power Bank", "Petit Volt") is named by that word alone."""
    return any(len(t) >= NAME_WORD_LETTERS and t.isalpha() and t not in _GENERIC and idf.get(t, 0.0) >= unique
               and (t in words or _plural(t) in words) and t not in _common_words() for t in title_words)


def _names_own_option(options: frozenset[str], words: set[str], option_products: Counter[str]) -> bool:
    """Whether ``words`` name a variant of the product that no other product has and that is no common word: a
    hop variety, a scent, a flavour sold as an option ("do you have Citra in the 1 lb bag?" asks for the "Citra"
    of "Pellet hops")."""
    return any(len(w) >= NAME_WORD_LETTERS and option_products[w] == 1 and (w in words or _plural(w) in words)
               and w not in _common_words() for w in options)


# A model code as titles write it: one to four capitals, an optional hyphen, digits ("CT-2", "CF-600", "V60").
_TITLE_CODE = re.compile(r"(?<![\w-])([A-Z]{1,4})-?(\d{1,5})(?![\w-])")
# The same code as a customer writes it, in any case, with a hyphen, a space or nothing between its parts.
_WRITTEN_CODE = re.compile(r"(?<![\w-])([a-z]{1,4})[- ]?(\d{1,5})(?![\w-])")


def title_codes(title: str) -> frozenset[str]:
    """The model codes of a product title, folded without their hyphen: "Cheville CT-2 Clip-On Tuner" → {"ct2"}."""
    return frozenset(fold(letters) + digits for letters, digits in _TITLE_CODE.findall(title))


def written_codes(folded: str) -> set[str]:
    """The letters-then-digits codes an accent-folded message writes ("l'accordeur ct-2" → {"ct2"})."""
    return {letters + digits for letters, digits in _WRITTEN_CODE.findall(folded)}


@functools.cache
def _common_words() -> frozenset[str]:
    """Words that name no one product: the function words and the retail glossary's and desk topics' words of the
    three languages, and the gazetteer's places ("Montréal Under Snow" is not what "livrez-vous à Montréal?" asks
    for)."""
    entries = load_entries([GLOSSARY_PATH, DESK_TOPICS_PATH])
    words = {w for entry in entries for language in ("en", "fr", "es") for phrase in entry.get(language) or []
             if isinstance(phrase, str) for w in tokens(phrase)}
    return frozenset(words | set(STOPWORDS) | {name for name in gazetteer().names if " " not in name})


_TITLE_TAIL = re.compile(r"\s+[—–-]\s+|\s*[(:]")


def _title_head(title: str) -> str:
    """The product's name before a dash, a colon or a parenthesis that describes it."""
    return _TITLE_TAIL.split(title, maxsplit=1)[0] or title


def _plural(token: str) -> str:
    return token + "s"


COGNATE_WEIGHT = 0.8


def _word_match(title_word: str, words: set[str], idf: float, idf_of: dict[str, float]) -> float:
    """1 for the word (or its plural) itself; ``COGNATE_WEIGHT`` for a likely cognate of a distinctive title word.

    Catalogues are often in English only while customers write in French or Spanish, and the words that single a
    product out (scents, fruits, plants, materials) are mostly cognates: lavande / lavanda for lavender, mangue for
    mango, rosa for rose, eucalipto for eucalyptus. A cognate shares the first three letters and most of its
    letters in order (``difflib`` ratio >= 0.66); category words (low idf) never match this way.
    """
    if title_word in words or _plural(title_word) in words:
        return 1.0
    if idf <= 1.2 or len(title_word) < 4:
        return 0.0
    for word in words:
        if word in idf_of:
            continue  # a word of the catalogue's own titles names that word, not its look-alike ("carnet", "cartes")
        if len(word) >= 4 and word[:3] == title_word[:3] and abs(len(word) - len(title_word)) <= 3 \
                and difflib.SequenceMatcher(None, word, title_word).ratio() >= 0.66:
            return COGNATE_WEIGHT
    return 0.0


def owns(order: dict[str, Any], customer: CustomerRef | None) -> bool:
    if customer is None:
        return False
    order_customer = order.get("customer") or {}
    if customer.id and str(order_customer.get("id")) == customer.id:
        return True
    emails = {fold(e) for e in (order.get("email"), order_customer.get("email")) if e}
    return bool(customer.email and fold(customer.email) in emails)


def order_facts(order: dict[str, Any]) -> OrderFacts:
    fulfillments = [f for f in order.get("fulfillments") or [] if f.get("status") != "cancelled"]
    latest = fulfillments[-1] if fulfillments else {}
    if order.get("cancelled_at"):
        status = "cancelled"
    elif order.get("financial_status") == "refunded":
        status = "refunded"
    elif order.get("fulfillment_status") == "partial":
        status = "partially_shipped"  # even when the part that shipped was delivered: the rest has not
    elif latest.get("shipment_status") == "delivered":
        status = "delivered"
    elif order.get("fulfillment_status") == "fulfilled":
        status = "shipped"
    else:
        status = "unfulfilled"
    items, pending = [], []
    for li in order.get("line_items") or []:
        variant = f" ({li['variant_title']})" if li.get("variant_title") else ""
        items.append(f"{li.get('quantity', 1)} × {li.get('title')}{variant}")
        if status == "partially_shipped" and li.get("fulfillment_status") != "fulfilled":
            pending.append(items[-1])
    shipping = (order.get("shipping_lines") or [{}])[0]
    refunded = sum((Decimal(str(t.get("amount") or 0)) for r in order.get("refunds") or []
                    for t in r.get("transactions") or [] if t.get("kind", "refund") == "refund"), Decimal(0))
    refund_dates = sorted((r.get("created_at") or "")[:10] for r in order.get("refunds") or [] if r.get("created_at"))
    return OrderFacts(
        order_number=str(order.get("order_number") or order.get("name")),
        status=status,
        financial_status=order.get("financial_status"),
        created_at=(order.get("created_at") or "")[:10] or None,
        items=items,
        total=order.get("total_price"),
        currency=order.get("currency"),
        carrier=latest.get("tracking_company"),
        tracking_number=latest.get("tracking_number"),
        tracking_url=latest.get("tracking_url"),
        shipment_status=latest.get("shipment_status"),
        pending_items=pending,
        refunded=f"{refunded:.2f}" if refunded > 0 else None,
        refunded_on=refund_dates[-1] if refunded > 0 and refund_dates else None,
        cancelled_on=(order.get("cancelled_at") or "")[:10] or None,
        note=(order.get("note") or "").strip() or None,
        returns=[r["id"] for r in returns_of(order)],
        shipping_method=shipping.get("title") or shipping.get("code"),
        shipping_price=shipping.get("price"),
    )


def product_facts(product: dict[str, Any], currency: str, shop_url: str | None = None) -> ProductFacts:
    variants = product.get("variants") or []
    availability = [variant_availability(v) for v in variants]
    quantities = [max(v.get("inventory_quantity") or 0, 0) for v in variants if v.get("inventory_management")]
    prices = sorted({v.get("price") for v in variants if v.get("price")}, key=lambda p: float(p))
    handle = product.get("handle") or str(product.get("id"))
    return ProductFacts(
        product_id=str(product.get("id")),
        doc_id=f"product-{handle}",
        title=product.get("title", ""),
        price=prices[0] if prices else None,
        currency=currency,
        in_stock=any(a in ("in stock", "available") for a in availability),
        backorder=not any(a in ("in stock", "available") for a in availability) and "backorder" in availability,
        quantity=sum(quantities) if quantities and "available" not in availability else None,
        variants=[
            {"title": v.get("title"), "price": v.get("price"), "sku": v.get("sku"),
             "in_stock": a in ("in stock", "available"), "quantity": max(v.get("inventory_quantity") or 0, 0),
             "backorder": a == "backorder"}
            for v, a in zip(variants, availability, strict=True)
        ],
        url=f"{shop_url.rstrip('/')}/products/{handle}" if shop_url else None,
    )
