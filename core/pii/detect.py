"""``detect(text, lang=None, known=None)``: every PII span in free text, merged into disjoint spans."""

from __future__ import annotations

import re

from .addresses import find_addresses
from .known import KnownEntities
from .names import find_names
from .patterns import find_patterns
from .spans import Span, merge_spans

# Tokens already in the text (a history that was tokenized before) are not PII and must stay intact.
TOKEN_IN_TEXT = re.compile(r"TOKEN_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _lang(lang: str | None) -> str | None:
    return lang[:2].lower() if lang else None


def detect(text: str, lang: str | None = None, known: KnownEntities | None = None) -> list[Span]:
    """PII spans ``(start, end, label)`` in ``text`` (en / fr / es; ``lang`` only orders phone regions).

    ``known`` adds the conversation customer's own values in any of the forms they are written in.
    """
    if not text:
        return []
    lang = _lang(lang)
    spans = find_patterns(text, lang)
    spans.extend(find_addresses(text, lang))
    spans.extend(find_names(text, lang))
    if known:
        spans.extend(known.find(text))
    tokens = [m.span() for m in TOKEN_IN_TEXT.finditer(text)] if "TOKEN_" in text else []
    if tokens:
        spans = [s for s in spans if not any(s.start < e and b < s.end for b, e in tokens)]
    return merge_spans(spans, text)


def detect_log_patterns(text: str) -> list[Span]:
    """The cheap subset used on every log record: e-mails, card numbers, IBANs, phones and public IPs (no names or
    addresses), never inside an id, a date, a duration or a URL's host (``core.pii.log_patterns``)."""
    from .log_patterns import detect_log_patterns as detect_in_log_line

    return detect_in_log_line(text)
