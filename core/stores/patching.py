"""JSON patch as Cosmos DB applies it (set, add, replace, remove, incr), for the embedded adapters."""

from __future__ import annotations

import copy
from typing import Any

from .ports import PatchOp


class PatchError(ValueError):
    """A patch operation cannot apply (unknown op, missing path for replace/remove/incr, non-number incr)."""


def _parts(path: str) -> list[str]:
    if not path.startswith("/") or path == "/":
        raise PatchError(f"patch path must look like /field or /a/b, got {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _index(container: Any, part: str) -> Any:
    if isinstance(container, list):
        return len(container) if part == "-" else int(part)
    return part


def apply_patch(body: dict[str, Any], operations: list[PatchOp]) -> dict[str, Any]:
    """A patched deep copy of ``body``; raises ``PatchError`` and leaves ``body`` untouched on failure."""
    doc = copy.deepcopy(body)
    for op in operations:
        kind = op.get("op")
        parts = _parts(op.get("path", ""))
        parent: Any = doc
        for part in parts[:-1]:
            try:
                parent = parent[_index(parent, part)]
            except (KeyError, IndexError, ValueError, TypeError) as exc:
                raise PatchError(f"{op['path']}: parent does not exist") from exc
        key = _index(parent, parts[-1])
        exists = (0 <= key < len(parent)) if isinstance(parent, list) else key in parent
        if kind == "set" or (kind == "add" and not isinstance(parent, list)):
            if isinstance(parent, list) and key == len(parent):
                parent.append(op["value"])
            else:
                parent[key] = op["value"]
        elif kind == "add":
            parent.insert(key, op["value"])
        elif kind in ("replace", "remove", "incr"):
            if not exists:
                raise PatchError(f"{op['path']}: does not exist")
            if kind == "replace":
                parent[key] = op["value"]
            elif kind == "remove":
                del parent[key]
            else:
                current = parent[key]
                if not isinstance(current, int | float) or isinstance(current, bool):
                    raise PatchError(f"{op['path']}: incr needs a number")
                parent[key] = current + op["value"]
        else:
            raise PatchError(f"unknown patch op {kind!r}")
    return doc
