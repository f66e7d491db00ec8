"""Trained models: read from the package's artifacts first, then DATA_DIR; trained (and written to DATA_DIR, never
to the package) only when neither has them; ``ship`` puts one version into the artifacts folder."""

from __future__ import annotations

import joblib
import pytest

from core.agents import model_cache


@pytest.fixture
def folders(tmp_path, monkeypatch):
    artifacts, data = tmp_path / "artifacts", tmp_path / "data"
    artifacts.mkdir()
    data.mkdir()
    monkeypatch.setattr(model_cache, "ARTIFACTS_DIR", artifacts)
    monkeypatch.setattr(model_cache, "data_dir", lambda: data)
    return artifacts, data


def _never():
    raise AssertionError("trained although a model was there")


def test_the_packaged_model_is_loaded_before_the_one_in_data_dir(folders):
    artifacts, data = folders
    joblib.dump("packaged", artifacts / "m-1.joblib")
    joblib.dump("kept", data / "m-1.joblib")
    assert model_cache.load_or_train("m-1.joblib", _never) == "packaged"


def test_data_dir_is_read_when_the_package_has_no_such_model(folders):
    _, data = folders
    joblib.dump("kept", data / "m-1.joblib")
    assert model_cache.load_or_train("m-1.joblib", _never) == "kept"


def test_a_missing_model_is_trained_into_data_dir_only(folders, caplog):
    artifacts, data = folders
    assert model_cache.load_or_train("m-2.joblib", lambda: "fresh") == "fresh"
    assert joblib.load(data / "m-2.joblib") == "fresh"
    assert not list(artifacts.iterdir())
    assert "training it" in caplog.text


def test_an_unreadable_packaged_model_falls_back_to_data_dir(folders):
    artifacts, data = folders
    (artifacts / "m-3.joblib").write_bytes(b"not a pickle")
    joblib.dump("kept", data / "m-3.joblib")
    assert model_cache.load_or_train("m-3.joblib", _never) == "kept"


def test_ship_copies_the_model_into_the_artifacts_and_drops_older_versions(folders):
    artifacts, data = folders
    joblib.dump("old", artifacts / "intent-model-aaaa.joblib")
    joblib.dump("other", artifacts / "critic-model-cccc.joblib")
    joblib.dump("new", data / "intent-model-bbbb.joblib")
    shipped = model_cache.ship("intent-model-bbbb.joblib")
    assert shipped == artifacts / "intent-model-bbbb.joblib" and joblib.load(shipped) == "new"
    assert sorted(p.name for p in artifacts.iterdir()) == ["critic-model-cccc.joblib", "intent-model-bbbb.joblib"]


def test_the_app_has_no_repository_data_path():
    from core.agents import critic_model, intent

    for module in (intent, critic_model, model_cache):
        source = open(module.__file__, encoding="utf-8").read()
        assert '".data"' not in source, module.__name__
