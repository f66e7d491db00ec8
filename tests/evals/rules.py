"""How much hand-written rule the language-facing code carries: ``python -m tests.evals.rules`` (``make
eval-rules``).

Counts, per folder of ``core/agents``, ``core/pii`` and ``core/text.py``:
- regex alternatives: every pattern literal given to ``re`` (and every regex-looking string of a data file),
  counted as its ``|``-separated alternatives at any depth (a pattern without ``|`` counts one);
- inline words: string constants in Python list / tuple / set / dict literals of five or more strings;
- data words: string leaves of the JSON data files that are not regexes (lexicons, templates excluded: a leaf
  with a space and more than four words is a sentence, not a word).
A learned model that replaces rules makes these numbers fall; the figures are reproducible from the files alone.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCOPES = ("core/agents", "core/pii", "core/text.py")
_RE_FUNCS = {"compile", "search", "match", "fullmatch", "findall", "finditer", "sub", "subn", "split"}
_REGEXY = re.compile(r"\\[bdswBDSW]|\(\?|\[[^\]]+\]|\|")


def alternatives(pattern: str) -> int:
    """|-separated alternatives of a pattern at any depth, escaped bars and bars in classes not counted."""
    count, in_class, escaped = 1, False, False
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "[":
            in_class = True
        elif ch == "]":
            in_class = False
        elif ch == "|" and not in_class:
            count += 1
    return count


def _python_counts(path: Path) -> tuple[int, int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    regex, words = 0, 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _RE_FUNCS \
                and isinstance(node.func.value, ast.Name) and node.func.value.id in {"re", "regex"} and node.args:
            literal = node.args[0]
            if isinstance(literal, ast.Constant) and isinstance(literal.value, str):
                regex += alternatives(literal.value)
            elif isinstance(literal, ast.JoinedStr):
                regex += sum(alternatives(v.value) for v in literal.values
                             if isinstance(v, ast.Constant) and isinstance(v.value, str))
        elif isinstance(node, ast.List | ast.Tuple | ast.Set):
            strings = [e for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            if len(strings) >= 5:
                words += len(strings)
        elif isinstance(node, ast.Dict):
            strings = [k for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
            if len(strings) >= 5 and all(isinstance(v, ast.Constant) for v in node.values):
                words += len(strings)
    return regex, words


def _leaves(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return []


def _data_counts(path: Path) -> tuple[int, int]:
    if path.suffix == ".json":
        leaves = _leaves(json.loads(path.read_text(encoding="utf-8")))
    elif path.suffix == ".txt":
        return 0, len(path.read_text(encoding="utf-8").split())
    else:
        return 0, 0
    regex = sum(alternatives(leaf) for leaf in leaves if _REGEXY.search(leaf))
    words = sum(1 for leaf in leaves if not _REGEXY.search(leaf) and len(leaf.split()) <= 4)
    return regex, words


def count(scope: str) -> dict[str, int]:
    base = ROOT / scope
    files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
    totals = {"regex alternatives": 0, "inline words": 0, "data regex alternatives": 0, "data words": 0}
    for path in files:
        if "__pycache__" in path.parts:
            continue
        if path.suffix == ".py":
            regex, words = _python_counts(path)
            totals["regex alternatives"] += regex
            totals["inline words"] += words
        else:
            regex, words = _data_counts(path)
            totals["data regex alternatives"] += regex
            totals["data words"] += words
    return totals


def main() -> int:
    columns = ("regex alternatives", "inline words", "data regex alternatives", "data words")
    print(f"{'scope':<14}" + "".join(f"{c:>26}" for c in columns))
    grand = dict.fromkeys(columns, 0)
    for scope in SCOPES:
        totals = count(scope)
        print(f"{scope:<14}" + "".join(f"{totals[c]:>26}" for c in columns))
        for c in columns:
            grand[c] += totals[c]
    print(f"{'all':<14}" + "".join(f"{grand[c]:>26}" for c in columns))
    print("(name lists under core/pii/data count as data words: census first names and surnames)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
