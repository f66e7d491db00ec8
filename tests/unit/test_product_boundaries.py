"""The function app stands on its own: no product module (``core`` outside ``core/devhost``, ``blueprints``,
``function_app.py``) imports the local host or the test tree, counting imports inside functions, and every
setting in core.config is read by the product."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from core.config import Settings

REPO = Path(__file__).resolve().parents[2]
DEV_HOST = REPO / "core" / "devhost"

# Settings the product code never reads by name, and who does.
READ_ELSEWHERE = {
    "FUNCTIONS_WORKER_RUNTIME": "the Functions host (core.config only validates it)",
    "LOCAL_FUNCTION_KEY": "the local host (core/devhost), which stands in for Azure's function keys",
}


def product_files() -> list[Path]:
    files = [REPO / "function_app.py", *sorted((REPO / "blueprints").rglob("*.py"))]
    files += [p for p in sorted((REPO / "core").rglob("*.py")) if not p.is_relative_to(DEV_HOST)]
    return files


def imported_modules(source: str, package: str) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``source``, a module of ``package``, wherever the import
    sits (module level or inside a function); relative imports resolved."""
    parts = package.split(".")
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = parts[: len(parts) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names = [module] if node.module else [f"{module}.{alias.name}" for alias in node.names]
            found += [(node.lineno, name) for name in names]
    return found


def package_of(path: Path) -> str:
    return ".".join(path.relative_to(REPO).with_suffix("").parts[:-1])


def test_the_import_scan_sees_relative_imports_and_imports_inside_functions():
    source = "from ..devhost import settings\nimport json\n\ndef f():\n    from . import eval\n    import tests.evals\n"
    assert [name for _, name in imported_modules(source, "core.rag")] == [
        "core.devhost", "json", "core.rag.eval", "tests.evals"]


def test_no_product_module_imports_the_local_host_or_the_tests():
    offending = [f"{path.relative_to(REPO)}:{line} imports {name}"
                 for path in product_files()
                 for line, name in imported_modules(path.read_text(encoding="utf-8"), package_of(path))
                 if re.match(r"(core\.devhost|tests)(\.|$)", name)]
    assert not offending, "\n".join(offending)


def test_every_setting_is_read_by_the_product():
    sources = "\n".join(p.read_text(encoding="utf-8") for p in product_files() if p != REPO / "core" / "config.py")
    sources += (REPO / "host.json").read_text(encoding="utf-8")
    unread = [name for name in Settings.model_fields
              if name not in READ_ELSEWHERE and not re.search(rf"\b{re.escape(name)}\b", sources)]
    assert not unread, f"settings nothing reads (remove them or wire them): {unread}"
    assert set(READ_ELSEWHERE) <= set(Settings.model_fields), "READ_ELSEWHERE names a setting that is gone"
