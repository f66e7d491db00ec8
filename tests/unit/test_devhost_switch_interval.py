"""The local host's GIL switch interval: the default, a setting that overrides it, and values it refuses."""

from core.devhost.host import DEFAULT_SWITCH_MS, switch_interval


def test_default_is_shorter_than_pythons(monkeypatch):
    monkeypatch.delenv("DEVHOST_GIL_SWITCH_MS", raising=False)
    assert switch_interval() == DEFAULT_SWITCH_MS / 1000
    assert switch_interval() < 0.005


def test_setting_overrides_it(monkeypatch):
    monkeypatch.setenv("DEVHOST_GIL_SWITCH_MS", "5")
    assert switch_interval() == 0.005


def test_unusable_values_fall_back_or_are_bounded(monkeypatch):
    monkeypatch.setenv("DEVHOST_GIL_SWITCH_MS", "fast")
    assert switch_interval() == DEFAULT_SWITCH_MS / 1000
    monkeypatch.setenv("DEVHOST_GIL_SWITCH_MS", "0")
    assert switch_interval() == 0.05 / 1000
