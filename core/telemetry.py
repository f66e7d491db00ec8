"""Logging and OpenTelemetry set-up. Log lines carry the tenant id; every record is scrubbed of PII patterns."""

from __future__ import annotations

import logging
import re

from core.config import Settings

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CARD = re.compile(r"\b(?:\d[ -]?){13,19}\b")
_PHONE = re.compile(r"(?<![\w+])\+?\d[\d ().-]{8,}\d(?!\w)")
_WORTH_SCANNING = re.compile(r"\d{2}|@|\bat\b", re.IGNORECASE)


def redact(text: str) -> str:
    """Mask e-mails, phones, cards, IBANs and IPs (core.pii's validated patterns, then the broad fallbacks):
    the last line of defence for logs and traces. Text without two digits in a row or an "@" is returned as is."""
    if not text or not _WORTH_SCANNING.search(text):
        return text
    from core.pii.detect import detect_log_patterns

    spans = detect_log_patterns(text)
    for span in reversed(spans):
        text = f"{text[:span.start]}[{str(span.label).lower()}]{text[span.end:]}"
    return _PHONE.sub("[phone]", _CARD.sub("[card]", _EMAIL.sub("[email]", text)))


_installed = False


def _install_record_scrubber() -> None:
    # A record factory (not a logger filter) so that every logger, including child and library loggers, is covered.
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed format string is left for the handler to report
            return record
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


def configure_telemetry(settings: Settings) -> None:
    _install_record_scrubber()
    logging.getLogger("shopdesk").setLevel(settings.LOG_LEVEL.upper())
