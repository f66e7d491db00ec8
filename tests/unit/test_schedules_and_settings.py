import json
import os
from datetime import UTC, datetime

import pytest

from core.config import ConfigError, describe_settings, load_local_settings, load_settings
from core.devhost.settings import SettingReferenceError, resolve
from core.devhost.timers import Schedule, ScheduleError


def test_ncrontab_seconds_first():
    schedule = Schedule("30 */5 * * * *")
    start = datetime(2026, 11, 21, 10, 0, 0, tzinfo=UTC)
    first = schedule.next_after(start)
    assert first == datetime(2026, 11, 21, 10, 0, 30, tzinfo=UTC)
    assert schedule.next_after(first) == datetime(2026, 11, 21, 10, 5, 30, tzinfo=UTC)


def test_timespan_schedule():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert (Schedule("00:00:10").next_after(start) - start).total_seconds() == 10


@pytest.mark.parametrize("bad", ["* * * * *", "61 * * * * *", "00:00:00", "nonsense"])
def test_bad_schedules_fail_clearly(bad):
    with pytest.raises(ScheduleError):
        Schedule(bad)


def test_setting_expressions_resolve(monkeypatch):
    monkeypatch.setenv("MY_SCHEDULE", "0 0 * * * *")
    assert resolve("%MY_SCHEDULE%") == "0 0 * * * *"
    with pytest.raises(SettingReferenceError, match="NOPE_NOT_SET"):
        resolve("%NOPE_NOT_SET%")


def test_local_settings_do_not_override_environment(tmp_path, monkeypatch):
    path = tmp_path / "local.settings.json"
    path.write_text(json.dumps({"Values": {"A_SETTING": "file", "B_SETTING": "file"}}))
    monkeypatch.setenv("A_SETTING", "env")
    monkeypatch.delenv("B_SETTING", raising=False)
    load_local_settings(path)
    assert os.environ["A_SETTING"] == "env" and os.environ["B_SETTING"] == "file"
    monkeypatch.delenv("B_SETTING")


def test_invalid_setting_fails_fast_naming_it():
    with pytest.raises(ConfigError, match="CHAT_WAIT_TIMEOUT_MS"):
        load_settings(CHAT_WAIT_TIMEOUT_MS="soon")
    with pytest.raises(ConfigError, match="DAILY_SUMMARY_SCHEDULE"):
        load_settings(DAILY_SUMMARY_SCHEDULE="0 0 * * *")


def test_sample_settings_list_every_setting():
    sample = json.loads(open("local.settings.sample.json").read())["Values"]
    names = {name for name, _, _ in describe_settings()}
    assert names <= set(sample), f"missing from local.settings.sample.json: {sorted(names - set(sample))}"
    load_settings(**{k: v for k, v in sample.items() if k in names})  # the sample values are valid


def test_sync_adds_new_sample_settings_and_keeps_developer_values(tmp_path):
    from core.devhost.settings import sync_missing

    sample = tmp_path / "sample.json"
    target = tmp_path / "local.json"
    sample.write_text(json.dumps({"Values": {"A": "sample", "NEW_ONE": "x"}}))
    target.write_text(json.dumps({"IsEncrypted": False, "Values": {"A": "mine"}}))
    assert sync_missing(sample, target) == ["NEW_ONE"]
    assert json.loads(target.read_text())["Values"] == {"A": "mine", "NEW_ONE": "x"}
    assert sync_missing(sample, target) == []
