"""The log scrubber: e-mails, phones, card numbers, IBANs and public IPs are masked in every log record; ids, uuids,
dates, durations and URL hosts an operator needs come through as written."""

from __future__ import annotations

import logging

import pytest

from core.telemetry import _install_record_scrubber, redact


@pytest.mark.parametrize("line", [
    "conversation=47d763e4242424242424242d1eda921 turn=9f86d081884c7d659a2feaa0c55ad015",
    "trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7",
    "instance demo--3f2a1b4c-5d6e-4f70-8123-426614174000--turn uuid 123E4567-E89B-12D3-A456-426614174000",
    "serving on http://127.0.0.1:7071, azurite http://localhost:10130/devstoreaccount1, ipv6 http://[::1]:7071/api",
    "at 2026-11-21T10:00:00.123+00:00, 2026-11-21 10:00:00,123, day 2026-11-21, time 10:00:00.123456",
    "took 1234.5678 ms (12.3 s), poll 5145550199 ms, 1234567 bytes, attempt 3/10",
    "record ticket-01732184723123456789-ab12cd34 stored at ns 1732184723123456789",
    "GET /admin/api/2024-01/orders/6102054434467.json status=200",
    "order 6102054434467 variant 47520360277265 tracking 7023154340160590",
    "host 10.0.0.4 and ::1, version 3.11.4, ports 10130,10131,10132",
])
def test_ids_dates_durations_and_local_hosts_survive(line):
    assert redact(line) == line


@pytest.mark.parametrize("line, expected", [
    ("customer marie.tremblay@example.com wrote", "customer [email] wrote"),
    ("phones +1 514-555-0199, (514) 555-0199, +33 6 12 34 56 78", "phones [phone], [phone], [phone]"),
    ("card 4242 4242 4242 4242 and 4111111111111111 and 378282246310005", "card [card] and [card] and [card]"),
    ("iban FR14 2004 1010 0505 0001 3M02 606 and DE89370400440532013000", "iban [iban] and [iban]"),
    ("client 8.8.8.8 and 2001:4860:4860::8888", "client [ip_address] and [ip_address]"),
    ("GET https://demo.myshopify.com/customers/search.json?query=email:a.b@example.com",
     "GET https://demo.myshopify.com/customers/search.json?query=email:[email]"),
    # Next to ids that stay, the customer data still goes.
    ("conversation=47d763e1234d1eda921 email=a.b@example.com card=4242-4242-4242-4242 at 2026-11-21T10:00:00Z",
     "conversation=47d763e1234d1eda921 email=[email] card=[card] at 2026-11-21T10:00:00Z"),
])
def test_customer_data_is_masked(line, expected):
    assert redact(line) == expected


def test_every_log_record_is_scrubbed_and_keeps_its_ids(caplog):
    _install_record_scrubber()
    log = logging.getLogger("shopdesk.test")
    with caplog.at_level(logging.INFO, logger="shopdesk.test"):
        log.info("turn done conversation=%s card=%s url=%s", "47d763e4242424242424242d1eda921",
                 "4242 4242 4242 4242", "http://127.0.0.1:7071")
    assert caplog.records[-1].getMessage() == (
        "turn done conversation=47d763e4242424242424242d1eda921 card=[card] url=http://127.0.0.1:7071")
