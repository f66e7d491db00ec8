"""azd builds the package (with the trained models) before it deploys, and onboards the demo shop through the
import endpoint after; the deployed app exports telemetry through the Functions worker."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def azure_yaml() -> dict:
    return yaml.safe_load((REPO / "azure.yaml").read_text(encoding="utf-8"))


def test_the_package_azd_deploys_is_built_by_make_package():
    hook = azure_yaml()["services"]["api"]["hooks"]["prepackage"]["posix"]
    assert hook["run"].strip() == "make package"


def test_the_demo_shop_is_onboarded_through_the_import_endpoint_after_deploy():
    hook = azure_yaml()["hooks"]["postdeploy"]["posix"]["run"]
    assert "tools.onboard" in hook and "--tenant demo" in hook and "knowledge/tenants/demo" in hook


def test_funcignore_ships_the_artifacts_but_not_the_build_tools():
    lines = [line.strip() for line in (REPO / ".funcignore").read_text().splitlines()]
    assert "tools" in lines and "dist" in lines and ".data" in lines
    assert not any(line.startswith("artifacts") and "stamp" not in line for line in lines)
