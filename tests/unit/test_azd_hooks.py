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


def test_the_stacks_shop_is_onboarded_through_the_import_endpoint_after_deploy(monkeypatch, capsys):
    from core.deploy import onboard

    hook = azure_yaml()["hooks"]["postdeploy"]["posix"]["run"]
    assert "-m core.deploy.onboard" in hook and "--skip-missing" in hook
    calls = []
    monkeypatch.setattr(onboard, "onboard", lambda url, key, tenant, folder, **kw: calls.append((tenant, folder)) or
                        {"warnings": []})
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("SERVICE_API_URI", "https://app.example")
    monkeypatch.setenv("SHOPDESK_FUNCTION_KEY", "k")
    monkeypatch.delenv("SHOPDESK_TENANT", raising=False)
    assert onboard.main(["--skip-missing"]) == 0
    assert calls == [("demo", Path("knowledge/tenants/demo"))]
    monkeypatch.setenv("SHOPDESK_TENANT", "hipaa-clinic")  # a stack whose shop has no folder here
    assert onboard.main(["--skip-missing"]) == 0 and len(calls) == 1
    assert "no tenant folder" in capsys.readouterr().err


def test_funcignore_ships_the_artifacts_but_not_the_build_tools():
    lines = [line.strip() for line in (REPO / ".funcignore").read_text().splitlines()]
    assert "core/deploy" in lines and "dist" in lines and ".data" in lines
    assert not any(line.startswith("core/artifacts") and "stamp" not in line for line in lines)
