"""Load ``local.settings.json`` (Core Tools format) into the environment and resolve ``%SETTING%`` expressions."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

_EXPR = re.compile(r"%([A-Za-z0-9_]+)%")


class SettingReferenceError(KeyError):
    pass


def load_local_settings(path: Path, *, override: bool = False) -> dict[str, str]:
    """Apply the file's ``Values``; variables already in the environment win, as with Core Tools."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    values = {k: str(v) for k, v in (data.get("Values") or {}).items()}
    for key, value in values.items():
        if override or key not in os.environ:
            os.environ[key] = value
    return values


def use_local_settings() -> None:
    """Command-line tools run beside the local host read the same ``local.settings.json`` (the environment wins, and
    in Azure, where the file does not exist, nothing changes)."""
    from core.config import REPO_ROOT

    load_local_settings(REPO_ROOT / "local.settings.json")


def resolve(value: str) -> str:
    """Replace each ``%NAME%`` with the app setting NAME; a missing setting is an error naming it."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise SettingReferenceError(f"app setting '{name}' referenced as %{name}% is not defined")
        return os.environ[name]

    return _EXPR.sub(replace, value)


def sync_missing(sample: Path, target: Path) -> list[str]:
    """Copy settings that are in the sample but missing from ``target`` (a developer's local.settings.json made
    before they existed); the developer's own values are kept. Returns the names added."""
    if not target.exists():
        target.write_text(sample.read_text(encoding="utf-8"), encoding="utf-8")
        return []
    wanted = json.loads(sample.read_text(encoding="utf-8"))
    current = json.loads(target.read_text(encoding="utf-8"))
    values = current.setdefault("Values", {})
    added = [k for k in wanted.get("Values", {}) if k not in values]
    for key in added:
        values[key] = wanted["Values"][key]
    if added:
        target.write_text(json.dumps(current, indent=2) + "\n", encoding="utf-8")
    return added


if __name__ == "__main__":
    import sys

    names = sync_missing(Path(sys.argv[1]), Path(sys.argv[2]))
    if names:
        print(f"local.settings.json: added {len(names)} new setting(s): {', '.join(names)}")
