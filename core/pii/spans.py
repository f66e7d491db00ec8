"""PII labels and the ``Span`` every detector returns: ``(start, end, label)`` character offsets into the text."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class Label(StrEnum):
    PERSON = "PERSON"
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    ADDRESS = "ADDRESS"
    POSTAL_CODE = "POSTAL_CODE"
    CUSTOMER_ID = "CUSTOMER_ID"
    ORDER_NUMBER = "ORDER_NUMBER"
    TRACKING_NUMBER = "TRACKING_NUMBER"
    CARD = "CARD"
    AMOUNT = "AMOUNT"
    TICKET_ID = "TICKET_ID"
    IP_ADDRESS = "IP_ADDRESS"
    DEVICE_ID = "DEVICE_ID"
    IBAN = "IBAN"
    ID_NUMBER = "ID_NUMBER"  # an id-like number or code whose kind the context does not tell


# When two detectors claim overlapping text, the higher priority wins the label; lengths decide between equals.
PRIORITY: dict[str, int] = {
    Label.EMAIL: 100, Label.IBAN: 95, Label.CARD: 90, Label.IP_ADDRESS: 88, Label.TRACKING_NUMBER: 85,
    Label.PHONE: 80, Label.DEVICE_ID: 78, Label.ADDRESS: 75, Label.ORDER_NUMBER: 70, Label.TICKET_ID: 70,
    Label.CUSTOMER_ID: 70, Label.POSTAL_CODE: 65, Label.AMOUNT: 60, Label.PERSON: 55, Label.ID_NUMBER: 10,
}


class Span(NamedTuple):
    start: int
    end: int
    label: str
    source: str = "pattern"  # "pattern", "name", "address", "known", "structured"

    def text(self, source_text: str) -> str:
        return source_text[self.start:self.end]


def merge_spans(spans: list[Span], text: str | None = None) -> list[Span]:
    """Resolve overlaps into disjoint spans: overlapping spans are unioned, the strongest label names the union.

    Known entities (``source == "known"``) outrank patterns of the same priority because they are exact facts.
    """
    if not spans:
        return []
    ordered = sorted(spans, key=lambda s: (s.start, -s.end))
    merged: list[list] = []
    for span in ordered:
        if span.end <= span.start:
            continue
        if merged and span.start < merged[-1][1]:
            current = merged[-1]
            current[1] = max(current[1], span.end)
            current[2].append(span)
        else:
            merged.append([span.start, span.end, [span]])
    out = []
    for start, end, members in merged:
        best = max(members, key=lambda s: (PRIORITY.get(s.label, 0) + (1 if s.source == "known" else 0),
                                           s.end - s.start))
        out.append(Span(start, end, best.label, best.source))
    return out
