"""Resolve ``%SETTING%`` expressions in trigger bindings, and keep local.settings.json in step with the sample
(loading the file into the environment is ``core.config.load_local_settings``)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

_EXPR = re.compile(r"%([A-Za-z0-9_]+)%")


class SettingReferenceError(KeyError):
    pass


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
