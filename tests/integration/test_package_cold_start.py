"""The deployable package: what `make package` zips is what a publish ships (per .funcignore) plus the trained
models; unpacked and started cold with an empty DATA_DIR it onboards the demo shop through the import endpoint (a
zip upload) and answers its first chat turn, training nothing and writing nothing into the app folder."""

from __future__ import annotations

import zipfile

import pytest

from core.deploy.package import build, required_artifacts, shipped_files
from tests.bench.cold_start import run

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    return build(tmp_path_factory.mktemp("dist") / "shopdesk.zip")


def test_the_package_is_the_published_files_with_the_trained_models(package):
    with zipfile.ZipFile(package) as archive:
        names = set(archive.namelist())
    assert names == set(shipped_files())
    assert {f"core/artifacts/{name}" for name in required_artifacts()} <= names
    assert "function_app.py" in names and "host.json" in names and "requirements.txt" in names
    assert any(n.startswith("knowledge/tenants/demo/.vectors/") for n in names)  # the demo's prebuilt vectors
    for excluded in ("tests/", "core/devhost/", ".data/", "local.settings.json", "core/deploy/", "bicep/", "dist/"):
        assert not any(n.startswith(excluded) for n in names), excluded


def test_started_cold_it_onboards_a_shop_and_answers_without_training(package, storage_connection, tmp_path):
    result = run(package, storage_connection, tmp_path)
    report = result.report
    assert (report["documents"], report["products"], report["orders"], report["customers"]) == (125, 50, 40, 15)
    assert report["warnings"] == [] and report["dry_run"] is False
    assert len(result.replies) == 2 and all(r["reply"].strip() for r in result.replies)
    assert "training it" not in result.log
    assert result.log.count("loaded from the package") >= 4  # both models, in both processes
    assert not [f for f in result.data_files if f.endswith(".joblib") or f.startswith("training-vectors")]
    assert result.app_changes == []  # the app writes only to DATA_DIR
