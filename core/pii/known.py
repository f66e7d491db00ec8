"""The conversation customer's own data (profile and orders), found in text in exact and normalised forms.

``KnownEntities.from_shopify(customer, orders)`` reads Shopify Admin REST customer / order JSON (what tenants are
onboarded from). Matching ignores case and accents for names, e-mails and words; phones, card-like and tracking
numbers match on their digits whatever the separators; addresses match with street-type abbreviations folded
("Street"/"St", "rue"/"r.", "Avenida"/"Avda.", "app."/"apt"/"#").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .normalize import digits, fold
from .spans import Label, Span

# Equivalent words in addresses, folded: every variant maps to one canonical form.
_ADDRESS_SYNONYMS = {
    "street": "st", "st": "st", "str": "st", "avenue": "ave", "ave": "ave", "av": "ave", "avda": "ave",
    "avenida": "ave", "road": "rd", "rd": "rd", "boulevard": "blvd", "blvd": "blvd", "boul": "blvd", "bd": "blvd",
    "bulevar": "blvd", "drive": "dr", "dr": "dr", "lane": "ln", "ln": "ln", "court": "ct", "ct": "ct",
    "crescent": "cres", "cres": "cres", "place": "pl", "pl": "pl", "plaza": "pl", "pza": "pl", "terrace": "ter",
    "terr": "ter", "ter": "ter", "highway": "hwy", "hwy": "hwy", "rue": "rue", "r": "rue", "chemin": "ch", "ch": "ch",
    "calle": "c", "c": "c", "cl": "c", "paseo": "po", "po": "po", "carretera": "ctra", "ctra": "ctra",
    "apartment": "apt", "apt": "apt", "app": "apt", "appartement": "apt", "unit": "apt", "suite": "apt",
    "ste": "apt", "logement": "apt", "piso": "apt", "puerta": "apt", "dpto": "apt", "depto": "apt",
    "north": "n", "n": "n", "nord": "n", "south": "s", "s": "s", "sud": "s", "east": "e", "e": "e", "est": "e",
    "west": "w", "w": "w", "ouest": "w", "o": "w", "northeast": "ne", "ne": "ne", "northwest": "nw", "nw": "nw",
    "southeast": "se", "se": "se", "southwest": "sw", "sw": "sw", "izquierda": "izq", "izq": "izq", "izda": "izq",
    "derecha": "dcha", "dcha": "dcha", "dra": "dcha", "saint": "st", "sainte": "ste", "numero": "", "no": "", "n°": "",
}
_DROP = frozenset({"de", "du", "des", "la", "le", "les", "l", "d", "del", "los", "las", "el", "of", "the", "", "y"})
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_DIGIT_RUN = re.compile(r"\+?\d[\d\s().\-/]{3,40}\d|\d{3,}")


def _address_key(word: str) -> str:
    word = fold(word)
    return _ADDRESS_SYNONYMS.get(word, word)


@dataclass
class KnownValue:
    label: str
    value: str


@dataclass
class KnownEntities:
    """Values known to belong to the conversation's customer; each is found in text however it is written."""

    values: list[KnownValue] = field(default_factory=list)

    def add(self, label: str, value: Any) -> None:
        if value is None:
            return
        text = str(value).strip()
        if len(text) >= 2 and not any(v.label == label and v.value == text for v in self.values):
            self.values.append(KnownValue(label, text))

    def __bool__(self) -> bool:
        return bool(self.values)

    def __len__(self) -> int:
        return len(self.values)

    def extend(self, other: KnownEntities) -> KnownEntities:
        for v in other.values:
            self.add(v.label, v.value)
        return self

    @classmethod
    def from_values(cls, pairs: Iterable[tuple[str, Any]]) -> KnownEntities:
        known = cls()
        for label, value in pairs:
            known.add(label, value)
        return known

    @classmethod
    def from_shopify(cls, customer: dict[str, Any] | None = None,
                     orders: Iterable[dict[str, Any]] = ()) -> KnownEntities:
        known = cls()
        if customer:
            known._add_person(customer.get("first_name"), customer.get("last_name"))
            known.add(Label.EMAIL, customer.get("email"))
            known.add(Label.PHONE, customer.get("phone"))
            known.add(Label.CUSTOMER_ID, customer.get("id"))
            for address in [customer.get("default_address"), *(customer.get("addresses") or [])]:
                known._add_address(address)
        for order in orders:
            known.add(Label.ORDER_NUMBER, order.get("name"))
            known.add(Label.ORDER_NUMBER, order.get("order_number"))
            known.add(Label.EMAIL, order.get("email") or order.get("contact_email"))
            known.add(Label.PHONE, order.get("phone"))
            known.add(Label.AMOUNT, order.get("total_price"))
            for key in ("shipping_address", "billing_address"):
                known._add_address(order.get(key))
            for fulfillment in order.get("fulfillments") or []:
                known.add(Label.TRACKING_NUMBER, fulfillment.get("tracking_number"))
                for number in fulfillment.get("tracking_numbers") or []:
                    known.add(Label.TRACKING_NUMBER, number)
            person = order.get("customer") or {}
            known._add_person(person.get("first_name"), person.get("last_name"))
        return known

    def _add_person(self, first: str | None, last: str | None) -> None:
        full = " ".join(p for p in (first, last) if p)
        self.add(Label.PERSON, full)
        self.add(Label.PERSON, first)
        if last and len(last) >= 3:
            self.add(Label.PERSON, last)

    def _add_address(self, address: dict[str, Any] | None) -> None:
        if not address:
            return
        self._add_person(address.get("first_name"), address.get("last_name"))
        self.add(Label.PERSON, address.get("name"))
        self.add(Label.PHONE, address.get("phone"))
        street = " ".join(p for p in (address.get("address1"), address.get("address2")) if p)
        self.add(Label.ADDRESS, street)
        self.add(Label.ADDRESS, address.get("address1"))
        self.add(Label.POSTAL_CODE, address.get("zip"))

    def find(self, text: str) -> list[Span]:
        if not self.values:
            return []
        folded = fold(text)
        spans: list[Span] = []
        runs: list[tuple[int, int, str]] | None = None
        words: list[tuple[int, int, str]] | None = None
        for known in self.values:
            if "://" in known.value:  # a tracking URL and the like: matched as written
                spans.extend(_match_words(known, folded))
            elif known.label in (Label.PHONE, Label.TRACKING_NUMBER, Label.CUSTOMER_ID, Label.CARD) or (
                    known.label == Label.ORDER_NUMBER and digits(known.value)):
                if runs is None:
                    runs = [(m.start(), m.end(), digits(m.group())) for m in _DIGIT_RUN.finditer(text)]
                spans.extend(_match_digits(known, text, runs))
            elif known.label == Label.ADDRESS:
                if words is None:
                    words = [(m.start(), m.end(), _address_key(m.group())) for m in _WORD.finditer(text)]
                from .addresses import grow  # the city / province / postal code written after the street

                spans.extend(Span(s.start, grow(text, s.end), s.label, s.source)
                             for s in _match_address(known.value, words))
            elif known.label == Label.AMOUNT:
                spans.extend(_match_amount(known.value, text))
            else:
                spans.extend(_match_words(known, folded))
        return spans


def _match_digits(known: KnownValue, text: str, runs: list[tuple[int, int, str]]) -> Iterator[Span]:
    wanted = digits(known.value)
    if len(wanted) < 3:
        return
    # Phones: the national number is enough ("+1 514…" written "514…"); order numbers may be written "#1001".
    tail = wanted[-10:] if known.label == Label.PHONE and len(wanted) > 10 else wanted
    for start, end, run in runs:
        if run == wanted or (known.label == Label.PHONE and run.endswith(tail) and len(run) <= len(wanted) + 1):
            s = start - 1 if start and text[start - 1] == "#" else start
            yield Span(s, end, known.label, "known")
        elif len(tail) >= 6 and tail in run:
            # The value inside a longer run of digits and separators: cover the matching digits only.
            positions = [i for i in range(start, end) if text[i].isdigit()]
            offset = run.index(tail)
            yield Span(positions[offset], positions[offset + len(tail) - 1] + 1, known.label, "known")


def _match_words(known: KnownValue, folded_text: str) -> Iterator[Span]:
    value = fold(known.value)
    parts = [re.escape(p) for p in re.split(r"[\s\-.'’]+", value) if p]
    if not parts:
        return
    if known.label == Label.PERSON and len(parts) == 1 and len(parts[0]) < 3:
        return
    pattern = r"(?<![\w@.])" + r"[\s\-.'’]*".join(parts) + r"(?![\w@]|\.\w)"
    for m in re.finditer(pattern, folded_text):
        yield Span(m.start(), m.end(), known.label, "known")


def _match_amount(value: str, text: str) -> Iterator[Span]:
    match = re.fullmatch(r"(\d+)(?:[.,](\d{1,2}))?", value.strip())
    if not match:
        return
    whole, cents = match.group(1), match.group(2)
    number = re.escape(whole) + (rf"[.,]{cents}" if cents and cents.strip("0") else rf"(?:[.,]{cents or '00'})?")
    pattern = rf"(?<![\w.,])(?:(?:[$€£]|CAD|USD|EUR)\s?)?{number}(?:\s?(?:\$|€|£|CAD|USD|EUR|dollars?|euros?))?(?!\d)"
    for m in re.finditer(pattern, text, re.IGNORECASE):
        yield Span(m.start(), m.end(), Label.AMOUNT, "known")


def _match_address(value: str, words: list[tuple[int, int, str]]) -> Iterator[Span]:
    """Find the house number, grow over neighbouring words that belong to the address (in any order, filler words
    allowed), and accept when nearly all of the street's significant words were seen."""
    target = [w for w in (_address_key(m.group()) for m in _WORD.finditer(value)) if w not in _DROP]
    if len(target) < 2:
        return
    number = next((w for w in target if w.isdigit()), None)
    significant = {w for w in target if w != number and not w.isdigit() and len(w) > 1
                   and w not in _ADDRESS_SYNONYMS.values()}
    allowed = set(target) | _DROP | set(_ADDRESS_SYNONYMS.values())
    anchors = [i for i, w in enumerate(words) if w[2] == (number or target[0])]
    for i in anchors:
        left = i
        while left > 0 and words[left - 1][2] in allowed and i - left < 8:
            left -= 1
        right = i
        while right + 1 < len(words) and words[right + 1][2] in allowed and right - i < 10:
            right += 1
        seen = {w[2] for w in words[left:right + 1]}
        if len(significant & seen) >= max(1, len(significant) - 1):
            while left < i and words[left][2] not in target:
                left += 1
            while right > i and words[right][2] not in target:
                right -= 1
            yield Span(words[left][0], words[right][1], Label.ADDRESS, "known")
