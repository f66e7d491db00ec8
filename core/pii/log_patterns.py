"""What the log scrubber masks in a log line, and what it leaves alone.

Masked: e-mail addresses, phone numbers, card numbers (Luhn-valid, whole digit groups: ``core.pii.cards``), IBANs
(mod 97) and public IP addresses. Left as written, because operators need them and they identify no customer: hex
ids and uuids, ISO 8601 dates and timestamps, durations (``12.5 ms``, ``3s``), the ``scheme://host:port`` of a URL,
and loopback, private and link-local addresses. An e-mail address is masked wherever it is, a URL included.
"""

from __future__ import annotations

import ipaddress
import re

from .cards import find_card_numbers
from .patterns import find_emails, find_ibans, find_ips, find_phones
from .spans import Span, merge_spans

_I = re.IGNORECASE

# Hex ids of 8+ characters holding a digit and a letter (trace, span, conversation and turn ids), uuids.
HEX_ID = re.compile(r"(?<![\w-])(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}(?![\w])", _I)
UUID = re.compile(r"(?<![\w-])[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}(?![\w-])", _I)
ISO_DATETIME = re.compile(r"(?<![\w-])\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?"
                          r"(?:Z|[+-]\d{2}:?\d{2})?)?(?![\w])")
TIME_OF_DAY = re.compile(r"(?<![\w:])\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?(?![\w:])")
DURATION = re.compile(r"(?<![\w.])\d+(?:\.\d+)?\s?(?:ns|µs|us|ms|s|sec|secs|seconds?|min|minutes?|h|hours?)(?![\w])",
                      _I)
URL_HOST = re.compile(r"\b[a-z][a-z0-9+.-]*://(?:[^\s/?#@]*@)?(?P<host>\[[0-9a-f:.]+\]|[^\s/?#:@]+)(?::\d{1,5})?",
                      _I)


def _protected(text: str) -> list[tuple[int, int]]:
    spans = [m.span() for pattern in (HEX_ID, UUID, ISO_DATETIME, TIME_OF_DAY, DURATION)
             for m in pattern.finditer(text)]
    spans.extend(m.span("host") for m in URL_HOST.finditer(text))
    return spans


def _public_ip(raw: str) -> bool:
    try:
        address = ipaddress.ip_address(raw.strip("[]"))
    except ValueError:
        return True  # not parsed as one: keep the detector's word for it
    return address.is_global


def detect_log_patterns(text: str) -> list[Span]:
    """Spans to mask in a log line: e-mails and IBANs wherever they are; card numbers, phones and public IPs unless
    they lie inside an id, a date or time, a duration or a URL's host."""
    found = [*find_card_numbers(text), *find_phones(text, None),
             *(s for s in find_ips(text) if _public_ip(text[s.start:s.end]))]
    if found:
        protected = _protected(text)
        found = [s for s in found if not any(start <= s.start and s.end <= end for start, end in protected)]
    return merge_spans([*find_emails(text), *find_ibans(text), *found], text)

