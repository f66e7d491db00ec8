"""Bicep without a compiler: every template parses with pycep-parser (a lark grammar of Bicep), and the helpers the
other test_bicep_* suites use to read declarations and resolve simple expressions.

pycep returns identifiers and string literals alike as plain strings, so ``resolve`` treats a bare string that is
the name of a declared parameter or variable (and nothing else) as a reference to it.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import pytest
from pycep import BicepParser

REPO = Path(__file__).resolve().parents[2]
BICEP = REPO / "bicep"
TEMPLATES = sorted([BICEP / "main.bicep", *(BICEP / "modules").glob("*.bicep")])
PARAM_FILES = sorted([BICEP / "main.bicepparam", *(BICEP / "tenants").glob("*.bicepparam")])
KNOWN_DECORATORS = {"description", "minLength", "maxLength", "minValue", "maxValue", "allowed", "secure",
                    "batchSize", "metadata", "sealed", "export"}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Unknown:
    """An expression the helper does not evaluate (runtime values: resource properties, functions...)."""

    def __init__(self, expr: Any):
        self.expr = expr

    def __repr__(self) -> str:
        return f"Unknown({self.expr!r})"


@functools.cache
def template(path: Path | str) -> dict[str, Any]:
    path = Path(path) if Path(path).is_absolute() else BICEP / path
    return BicepParser().parse(text=path.read_text(encoding="utf-8"))


def resources(path: Path | str, type_prefix: str = "") -> dict[str, dict[str, Any]]:
    """Symbolic name -> {"type", "existing", "config", "loop"} for every resource of the template."""
    found = {}
    for name, resource in template(path).get("resources", {}).items():
        kind = resource["type"]
        if not kind.startswith(type_prefix):
            continue
        config = resource["config"]
        loop = None
        if isinstance(config, dict) and "loop_type" in config:
            loop, config = config["loop_type"], config["config"]
        if isinstance(config, dict) and "condition" in config and "config" in config:
            config = config["config"]
        found[name] = {"type": kind, "existing": resource.get("existing", False), "config": config, "loop": loop}
    return found


def resolve(path: Path | str, expr: Any, local: dict[str, Any] | None = None) -> Any:
    """Evaluate literals, parameter defaults, variables, property access, union() and loadJsonContent()."""
    path = Path(path) if Path(path).is_absolute() else BICEP / path
    parsed = template(path)
    local = local or {}
    if isinstance(expr, str):
        if expr in local:
            return local[expr]
        if _IDENT.match(expr) and expr in parsed.get("variables", {}):
            return resolve(path, parsed["variables"][expr]["value"], local)
        if _IDENT.match(expr) and expr in parsed.get("parameters", {}):
            default = parsed["parameters"][expr].get("default")
            return Unknown(expr) if default is None else resolve(path, default, local)
        return expr
    if isinstance(expr, list):
        return [resolve(path, e, local) for e in expr]
    if isinstance(expr, dict) and "operator" in expr and expr["operator"]["type"] == "property_accessor":
        base = resolve(path, expr["operator"]["operands"]["operand_1"], local)
        key = expr["operator"]["operands"]["operand_2"]
        return base[key] if isinstance(base, dict) and key in base else Unknown(expr)
    if isinstance(expr, dict) and "function" in expr:
        function = expr["function"]
        args = [resolve(path, a, local) for a in (function.get("parameters") or {}).values() if a is not None]
        if function["type"] == "load_json_content":
            return json.loads((path.parent / args[0]).read_text(encoding="utf-8"))
        if function["type"] == "union" and all(isinstance(a, list) for a in args):
            merged: list[Any] = []
            for arg in args:
                merged += [a for a in arg if a not in merged]
            return merged
        return Unknown(expr)
    if isinstance(expr, dict) and not ({"operator", "function"} & set(expr)):
        return {k: resolve(path, v, local) for k, v in expr.items()}
    return expr if isinstance(expr, int | float | bool) or expr is None else Unknown(expr)


def param_file(path: Path) -> tuple[str, dict[str, str]]:
    """(the template it uses, {param: raw value text}) of a .bicepparam file (multi-line values kept whole)."""
    text = re.sub(r"//[^\n]*", "", path.read_text(encoding="utf-8"))
    using = re.search(r"^using\s+'([^']+)'", text, re.M)
    assert using, f"{path.name}: no using statement"
    values = dict(re.findall(r"^param\s+(\w+)\s*=\s*(.+?)(?=^param\s|\Z)", text, re.M | re.S))
    return using.group(1), {k: v.strip() for k, v in values.items()}


# -- tests ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_every_template_parses_and_uses_known_decorators(path):
    parsed = template(path)
    assert parsed["resources"] or parsed.get("modules"), path.name
    for section in ("parameters", "variables", "resources", "modules", "outputs"):
        for name, item in (parsed.get(section) or {}).items():
            for decorator in item.get("decorators", []):
                kind = decorator.get("type") if isinstance(decorator, dict) else str(decorator)
                assert kind in KNOWN_DECORATORS or kind.replace("_", "").lower() in {
                    d.lower() for d in KNOWN_DECORATORS}, f"{path.name}: @{kind} on {name}"


def test_every_module_referenced_by_main_exists_and_gets_its_required_params():
    modules = template(BICEP / "main.bicep")["modules"]
    assert len(modules) >= 10
    for name, module in modules.items():
        target = BICEP / module["detail"]["path"]
        assert target.exists(), f"module {name}: {target} missing"
        config = module["config"]
        config = config.get("config", config)
        given = set(config["params"])
        declared = template(target)["parameters"]
        required = {p for p, spec in declared.items() if spec.get("default") is None}
        assert required <= given, f"module {name} misses {sorted(required - given)}"
        assert given <= set(declared), f"module {name} passes unknown {sorted(given - set(declared))}"


@pytest.mark.parametrize("path", PARAM_FILES, ids=lambda p: p.name)
def test_parameter_files_set_every_required_parameter_and_nothing_unknown(path):
    using, values = param_file(path)
    target = (path.parent / using).resolve()
    assert target == (BICEP / "main.bicep").resolve()
    declared = template(target)["parameters"]
    required = {p for p, spec in declared.items() if spec.get("default") is None}
    assert required <= set(values), f"{path.name} misses {sorted(required - set(values))}"
    assert set(values) <= set(declared), f"{path.name} sets unknown {sorted(set(values) - set(declared))}"
    for secret in ("sessionTokenKey", "exportTokenKey"):
        assert values[secret].startswith("readEnvironmentVariable("), f"{path.name}: {secret} must not be a literal"


def test_hipaa_parameter_file_turns_on_every_hipaa_control():
    _, values = param_file(BICEP / "tenants" / "hipaa-clinic.bicepparam")
    assert values["hipaa"] == "true" and values["privateNetworking"] == "true"
    assert int(values["logRetentionDays"]) >= 2190  # 6 years
    assert values["piiTokenize"] == "'always'" and values["chatRequireTenantKey"] == "true"
    _, demo = param_file(BICEP / "tenants" / "demo.bicepparam")
    assert demo["hipaa"] == "false" and demo["tenantId"] != values["tenantId"]


_SECRET_PATTERNS = [
    re.compile(r"AccountKey=", re.I),
    re.compile(r"SharedAccessSignature|[?&]sig=", re.I),
    re.compile(r"InstrumentationKey=[0-9a-f-]{36}", re.I),
    re.compile(r"\bsk-[A-Za-z0-9]{20,}"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"\blistKeys\(|\.listKeys\(|listConnectionStrings", re.I),
    re.compile(r"\b\w*(password|secret|apikey|api_key|token)\s*[:=]\s*'[^'$]{8,}'", re.I),
]


@pytest.mark.parametrize("path", [*TEMPLATES, *PARAM_FILES, REPO / "azure.yaml"], ids=lambda p: p.name)
def test_no_secret_literal_and_no_key_listing(path):
    text = path.read_text(encoding="utf-8")
    for pattern in _SECRET_PATTERNS:
        match = pattern.search(text)
        assert match is None, f"{path.name}: {match.group(0)!r}"


def test_secure_parameters_are_marked_secure():
    for path in TEMPLATES:
        for name, spec in template(path)["parameters"].items():
            if re.search(r"(key|secret|password|token)$", name, re.I) and spec["type"] == "string" \
                    and not name.endswith(("Name", "Uri")):
                kinds = {d.get("type") if isinstance(d, dict) else d for d in spec.get("decorators", [])}
                assert "secure" in kinds, f"{path.name}: param {name} holds a secret but is not @secure()"


def test_azure_yaml_points_azd_at_the_bicep_entry_point():
    text = (REPO / "azure.yaml").read_text(encoding="utf-8")
    assert re.search(r"^infra:\s*\n\s+provider: bicep\n\s+path: bicep\n\s+module: main", text, re.M)
    assert re.search(r"host: function", text) and re.search(r"language: python", text)
    functionapp = resources("modules/functionapp.bicep")["site"]["config"]
    assert "azd-service-name" in json.dumps(functionapp["tags"])
