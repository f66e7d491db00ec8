"""The README's onboarding and search commands work from a checkout, with only local.settings.json configured."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    # A shell's environment, not the test session's (which points the services at in-memory stores).
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
    env["DATA_DIR"] = str(tmp_path)
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)


def test_import_then_search_from_the_command_line(tmp_path):
    imported = run(tmp_path, "core.tenants", "import", "northwind-tea", "tests/fixtures/tenants/northwind-tea")
    assert imported.returncode == 0, imported.stderr[-2000:]
    report = json.loads(imported.stdout.strip().splitlines()[-1])
    assert report["tenant_id"] == "northwind-tea" and report["products"] == 12
    found = run(tmp_path, "core.rag", "search", "northwind-tea", "¿Hacen envíos a México?")
    assert found.returncode == 0, found.stderr[-2000:]
    hits = [json.loads(line) for line in found.stdout.splitlines() if line.startswith("{")]
    assert hits and hits[0]["doc_id"].startswith("policy-shipping")
