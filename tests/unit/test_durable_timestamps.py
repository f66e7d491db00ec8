"""The Durable SDK's timestamps parse to the same datetimes with the fast path as with dateutil."""

from datetime import timedelta

import pytest
from azure.durable_functions.models.DurableOrchestrationStatus import DurableOrchestrationStatus
from azure.durable_functions.models.history.HistoryEvent import HistoryEvent
from dateutil.parser import parse as dateutil_parse

from core import durable_timestamps
from core.durable_timestamps import parse_timestamp, use_fast_timestamp_parsing

SAME_AS_DATEUTIL = [
    "2021-05-13T20:57:21.4321617Z",  # the extension's history timestamps ("o" format, 7 digits)
    "2021-05-13T20:57:21Z",  # status createdTime / lastUpdatedTime
    "2021-05-13T20:57:21.1Z",
    "2021-05-13T20:57:21.123456789Z",
    "2021-05-13T20:57:21.123456+00:00",
    "2021-05-13T20:57:21-05:00",
    "2021-05-13T20:57:21",
    "0001-01-01T00:00:00",
    # not the extension's format: left to dateutil
    "2021-05-13 20:57:21",
    "May 13 2021 8:57 PM",
    "2021-05-13",
    "20210513T205721Z",
]


@pytest.mark.parametrize("text", SAME_AS_DATEUTIL)
def test_parse_timestamp_matches_dateutil(text):
    fast, slow = parse_timestamp(text), dateutil_parse(text)
    assert fast == slow
    assert fast.utcoffset() == slow.utcoffset()


def test_iso_timestamps_skip_dateutil(monkeypatch):
    calls = []
    monkeypatch.setattr(durable_timestamps, "dateutil_parse", lambda *a, **k: calls.append(a))
    parse_timestamp("2021-05-13T20:57:21.4321617Z")
    assert calls == []
    parse_timestamp("May 13 2021")
    assert calls == [("May 13 2021",)]


def test_bad_timestamps_still_raise_like_dateutil():
    with pytest.raises(ValueError):
        parse_timestamp("not a time")
    with pytest.raises(ValueError):
        parse_timestamp("2021-13-45T99:99:99Z")  # the right shape, not a date


def test_sdk_uses_the_fast_path_after_installing():
    use_fast_timestamp_parsing()
    use_fast_timestamp_parsing()  # idempotent
    event = HistoryEvent(EventType=12, EventId=-1, IsPlayed=False, Timestamp="2021-05-13T20:57:21.4321617Z")
    assert event.timestamp == dateutil_parse("2021-05-13T20:57:21.4321617Z")
    status = DurableOrchestrationStatus.from_json({
        "name": "conversation_turn", "instanceId": "demo:c1:1", "runtimeStatus": "Completed",
        "createdTime": "2021-05-13T20:57:21Z", "lastUpdatedTime": "2021-05-13T20:57:22Z"})
    assert status.last_updated_time - status.created_time == timedelta(seconds=1)
    assert status.created_time.utcoffset() == timedelta(0)
