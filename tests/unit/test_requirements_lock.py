"""requirements.txt is the lock of requirements.in: every distribution the app installs is pinned with ==, and
the pins are closed under dependencies (each pinned distribution's own requirements, read from its installed
metadata, are pinned too), so `pip install -r requirements.txt` pulls in nothing unpinned."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
ENGINE_FOLDER = "./core/rag/native"


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lines(path: Path) -> list[str]:
    return [line.split(" #", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def pins() -> dict[str, str]:
    found = {}
    for line in _lines(REPO / "requirements.txt"):
        if line == ENGINE_FOLDER:
            continue
        requirement = Requirement(line)
        [spec] = requirement.specifier
        assert spec.operator == "==", f"not pinned: {line}"
        found[_canonical(requirement.name)] = spec.version
    return found


def test_every_line_is_a_pin_or_the_engine_folder():
    lines = _lines(REPO / "requirements.txt")
    assert ENGINE_FOLDER in lines
    assert len(pins()) == len(lines) - 1


def test_every_direct_requirement_is_locked():
    locked = pins()
    for line in _lines(REPO / "requirements.in"):
        if line != ENGINE_FOLDER:
            assert _canonical(Requirement(line).name) in locked, line


def _requirements_of(name: str) -> list[Requirement]:
    return [Requirement(r) for r in metadata.requires(name) or []]


def test_the_pins_are_closed_under_dependencies():
    locked = pins()
    missing: dict[str, list[str]] = {}
    for name in [*locked, "shopdesk-e5engine"]:
        for requirement in _requirements_of(name):
            if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
                continue
            if _canonical(requirement.name) not in locked:
                missing.setdefault(_canonical(requirement.name), []).append(name)
    assert not missing, f"pulled in but not pinned in requirements.txt (run make lock): {missing}"


def test_the_installed_versions_are_the_pinned_ones():
    installed = {name: metadata.version(name) for name in pins()}
    assert installed == pins(), "the environment differs from requirements.txt (run make setup)"
