"""``detect(text, lang=None, known=None)``: every PII span in free text — validated formats, names and addresses by
rule and by the learned detector, the customer's known values — merged into disjoint spans."""

from __future__ import annotations

import re

from .addresses import find_street_lines
from .known import KnownEntities
from .names import find_names
from .ner import find_learned
from .patterns import find_patterns
from .spans import Label, Span, merge_spans

# Tokens already in the text (a history that was tokenized before) are not PII and must stay intact.
TOKEN_IN_TEXT = re.compile(r"TOKEN_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _lang(lang: str | None) -> str | None:
    return lang[:2].lower() if lang else None


_LEADING = re.compile(r"^(?:(?!#\d)[\W_])+")


def _strip_edges(piece: str) -> str:
    """Without punctuation or spaces at either end, but with the period of a final abbreviation ("Qro.", "Ave."), a
    "#" before a number ("#5-37") and a parenthesis that closes one the piece opened ("(Québec)")."""
    piece = _LEADING.sub("", piece)
    while piece and not piece[-1].isalnum() and not (piece[-1] == "." and piece[-2:-1].isalnum()) and not (
            piece[-1] == ")" and piece.count("(") >= piece.count(")")):
        piece = piece[:-1]
    return piece


# Validated formats that decide where they end: a learned name or address never runs over them.
_FORMATS = {Label.EMAIL, Label.PHONE, Label.CARD, Label.IBAN, Label.IP_ADDRESS, Label.TRACKING_NUMBER, Label.DEVICE_ID,
            Label.AMOUNT}


def _outside_formats(learned: list[Span], found: list[Span], text: str) -> list[Span]:
    """Learned spans less the text a validated format (phone, card, tracking number, e-mail…) holds; a span that is
    mostly such a format is the format's alone."""
    out = []
    for span in learned:
        formats = [f for f in found if f.label in _FORMATS and f.start < span.end and span.start < f.end]
        covered = sum(min(f.end, span.end) - max(f.start, span.start) for f in formats)
        if covered * 2 >= span.end - span.start:
            continue
        pieces = [(span.start, span.end)]
        for other in formats:
            pieces = [p for a, b in pieces for p in ((a, min(b, other.start)), (max(a, other.end), b)) if p[0] < p[1]]
        for a, b in pieces:
            # never half a word or code
            while a < b and a > 0 and text[a - 1].isalnum() and text[a].isalnum():
                a += 1
            while b > a and b < len(text) and text[b].isalnum() and text[b - 1].isalnum():
                b -= 1
            piece = _strip_edges(text[a:b])
            if len(piece) < 2 or (span.label == Label.ADDRESS and _only_postal_code(span, found, text)):
                continue
            if (a, b) != (span.start, span.end) and not any(w[:1].isupper() or w[:1].isdigit() for w in piece.split()):
                continue  # what is left of a span cut by a format: only a name or a street line is worth keeping
            a += text[a:b].index(piece)
            out.append(Span(a, a + len(piece), span.label, span.source))
    return out


def _only_postal_code(span: Span, found: list[Span], text: str) -> bool:
    """An address is more than a postal code and its cue ("code postal H2G 1M9" is a POSTAL_CODE)."""
    codes = [f for f in found if f.label == Label.POSTAL_CODE and f.start < span.end and span.start < f.end]
    if not codes:
        return False
    rest = list(text[span.start:span.end])
    for other in codes:
        for i in range(max(other.start, span.start), min(other.end, span.end)):
            rest[i - span.start] = " "
    words = "".join(rest).split()
    return len(words) <= 2 and not any(w[:1].isupper() or any(c.isdigit() for c in w) for w in words)


def detect(text: str, lang: str | None = None, known: KnownEntities | None = None) -> list[Span]:
    """PII spans ``(start, end, label)`` in ``text`` (en / fr / es; ``lang`` only orders phone regions).

    ``known`` adds the conversation customer's own values in any of the forms they are written in.
    """
    if not text:
        return []
    lang = _lang(lang)
    spans = find_patterns(text, lang)
    spans.extend(find_street_lines(text, lang))
    spans.extend(find_names(text, lang))
    spans.extend(_outside_formats(find_learned(text, lang), spans, text))
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
