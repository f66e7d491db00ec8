"""Azure Functions route templates → regular expressions (``{x}``, ``{x?}``, ``{x:int}``, ``{*rest}``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_CONSTRAINTS = {
    "int": r"-?\d+",
    "long": r"-?\d+",
    "bool": r"(?i:true|false)",
    "alpha": r"[A-Za-z]+",
    "guid": r"[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}",
    "double": r"-?\d+(?:\.\d+)?",
    "float": r"-?\d+(?:\.\d+)?",
    "decimal": r"-?\d+(?:\.\d+)?",
    "datetime": r"[0-9T:.\-+Z]+",
}
_PARAM = re.compile(r"\{(\*?)([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z]+)(?:\(([^)]*)\))?)?(\?)?\}")


class RouteTemplateError(ValueError):
    pass


@dataclass(frozen=True)
class CompiledRoute:
    template: str
    pattern: re.Pattern[str]
    literal_weight: int  # more literal text = more specific: matched first, as ASP.NET routing does

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch(path)
        if not found:
            return None
        return {k: v for k, v in found.groupdict().items() if v is not None}


def _param_regex(catch_all: bool, name: str, constraint: str | None, arg: str | None) -> str:
    if catch_all:
        return f"(?P<{name}>.*)"
    if constraint is None:
        body = r"[^/]+"
    elif constraint in _CONSTRAINTS:
        body = _CONSTRAINTS[constraint]
    elif constraint in ("minlength", "maxlength", "length") and arg:
        bounds = [b.strip() for b in arg.split(",")]
        if constraint == "minlength":
            body = rf"[^/]{{{int(bounds[0])},}}"
        elif constraint == "maxlength":
            body = rf"[^/]{{1,{int(bounds[0])}}}"
        else:
            body = rf"[^/]{{{int(bounds[0])},{int(bounds[-1])}}}"
    elif constraint == "regex" and arg:
        body = arg
    else:
        raise RouteTemplateError(f"unsupported route constraint '{constraint}'")
    return f"(?P<{name}>{body})"


def compile_route(template: str) -> CompiledRoute:
    template = template.strip("/")
    out = ""
    weight = 0
    position = 0
    for match in _PARAM.finditer(template):
        literal = template[position:match.start()]
        catch_all, name, constraint, arg, optional = match.groups()
        regex = _param_regex(bool(catch_all), name, constraint, arg)
        if (optional or catch_all) and literal.endswith("/"):
            # "a/{b?}" also matches "a": the slash is part of the optional segment.
            out += re.escape(literal[:-1]) + f"(?:/{regex})?"
        else:
            out += re.escape(literal) + (f"(?:{regex})?" if optional else regex)
        weight += len(literal.replace("/", ""))
        position = match.end()
    tail = template[position:]
    out += re.escape(tail)
    weight += len(tail.replace("/", ""))
    return CompiledRoute(template, re.compile(out, re.IGNORECASE), weight)
