"""Payment card numbers (PANs): found only where a card number can be, and masked to their last four digits.

PCI DSS lets nothing but the last four digits of a card number be kept, so every text a customer or an agent
writes passes through ``mask_card_numbers`` before it is stored or sent on: ``4242 4242 4242 4242`` becomes
``**** **** **** 4242``, which reads the same in an English, French or Spanish transcript.

A card number is 13 to 19 digits, written together or in groups separated by single spaces or dashes, with the
prefix and length of a payment network's cards (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro,
Mir) and a valid Luhn check digit. It is made of whole digit groups of a number standing on its own: digits inside
a hex id, a uuid, a URL path, a longer digit run, a decimal or a date are not a card. Order numbers, phone numbers,
dates and tracking numbers (Canada Post's start with 7, USPS's run to 20-22 digits) are left as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .checksums import luhn_ok
from .spans import Label, Span

# A whole number as written: digit groups joined by single spaces or dashes, not touching a letter, another digit
# group, a sign, a path's slash, a decimal part or an id's dash (possessive, so it never stops inside a number).
NUMBER = re.compile(r"(?<![\w+.,/])(?<!\w-)\d++(?:[ -]\d++)*+(?!\w|[.,]\d|-[^\W\d])")
_GROUP = re.compile(r"\d+")

# The payment networks' issuer prefixes and card lengths: Visa 4 (13, 16, 19 digits); Mastercard 51-55 and
# 2221-2720 (16); Amex 34, 37 (15); Diners 300-305, 36, 38, 39 (14-19); JCB 3528-3589 (16-19); Mir 2200-2204,
# Maestro 50 and 56-58, and Discover, UnionPay, RuPay and Maestro under 6 (16-19).
NETWORKS: tuple[tuple[re.Pattern[str], frozenset[int]], ...] = tuple(
    (re.compile(prefix), frozenset(lengths)) for prefix, lengths in (
        (r"4", (13, 16, 19)),
        (r"5[1-5]|2(?:22[1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)", (16,)),
        (r"3[47]", (15,)),
        (r"3(?:0[0-5]|[689])", range(14, 20)),
        (r"35(?:2[89]|[3-8]\d)|220[0-4]|5[06-8]|6", range(16, 20)),
    ))


def is_card_number(candidate: str) -> bool:
    """True for 13-19 digits (spaces and dashes aside) of a payment network's prefix and length whose Luhn check
    digit is right."""
    digits = "".join(_GROUP.findall(candidate))
    return (13 <= len(digits) <= 19 and luhn_ok(digits)
            and any(len(digits) in lengths and prefix.match(digits) for prefix, lengths in NETWORKS))


def _cards_in(number: str) -> Iterator[tuple[int, int]]:
    # The card is the whole number or a run of its groups: "4242 4242 4242 4242 12 27" (an expiry follows),
    # "order 1001 4242 4242 4242 4242". From the earliest group, the longest run of 13-19 digits that is a card wins.
    groups = [m.span() for m in _GROUP.finditer(number)]
    ends = [0]
    for start, end in groups:
        ends.append(ends[-1] + end - start)  # digits in groups[:k] is ends[k]
    i = 0
    while i < len(groups):
        j = i
        while j + 1 < len(groups) and ends[j + 2] - ends[i] <= 19:
            j += 1
        while j >= i and ends[j + 1] - ends[i] >= 13:
            if is_card_number(number[groups[i][0]:groups[j][1]]):
                yield groups[i][0], groups[j][1]
                i = j
                break
            j -= 1
        i += 1


def find_card_numbers(text: str) -> Iterator[Span]:
    """Spans of the card numbers in ``text`` (label ``CARD``)."""
    if not text or len(text) < 13:
        return
    for number in NUMBER.finditer(text):
        if len(number.group()) >= 13:
            for start, end in _cards_in(number.group()):
                yield Span(number.start() + start, number.start() + end, Label.CARD)


def _masked(number: str) -> str:
    # Every digit but the last four becomes "*"; the separators stay, so the number keeps the shape it was written in.
    seen, total = 0, sum(c.isdigit() for c in number)
    out = []
    for c in number:
        if c.isdigit():
            seen += 1
            out.append(c if seen > total - 4 else "*")
        else:
            out.append(c)
    return "".join(out)


def mask_card_numbers(text: str) -> str:
    """``text`` with every card number masked to its last four digits (``**** **** **** 4242``); anything else,
    including text without a card number, is returned unchanged."""
    if not text or len(text) < 13:
        return text
    spans = list(find_card_numbers(text))
    if not spans:
        return text
    for span in reversed(spans):
        text = f"{text[:span.start]}{_masked(text[span.start:span.end])}{text[span.end:]}"
    return text
