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


def resolve(value: str) -> str:
    """Replace each ``%NAME%`` with the app setting NAME; a missing setting is an error naming it."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise SettingReferenceError(f"app setting '{name}' referenced as %{name}% is not defined")
        return os.environ[name]

    return _EXPR.sub(replace, value)
