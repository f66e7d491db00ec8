"""HTTP responses shared by the blueprints: JSON bodies and RFC 9457 problem+json, pydantic error mapping, request
bodies parsed within limits, and the route's tenant (or the 404 that refuses it).

Every response carries ``Cache-Control: no-store`` (transcripts, tokens and orders must not sit in a shared or
browser cache) and ``X-Content-Type-Options: nosniff``."""

from __future__ import annotations

import json
import re

import azure.functions as func
from pydantic import ValidationError

from core import jsonsafe
from core.models import TENANT_ID_PATTERN
from core.stores.ports import DocumentStore
from core.tenants import TenantConfig, get_tenant

PROBLEM_JSON = "application/problem+json"
SAFE_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _headers(extra: dict[str, str] | None) -> dict[str, str]:
    return {**SAFE_HEADERS, **(extra or {})}


def json_response(body: object, status: int = 200, *, headers: dict[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(body, ensure_ascii=False, default=str), status_code=status,
                             mimetype="application/json", headers=_headers(headers))


def problem(status: int, title: str, detail: str, *, errors: list[dict] | None = None,
            headers: dict[str, str] | None = None, **extra: object) -> func.HttpResponse:
    body: dict[str, object] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    body.update(extra)
    return func.HttpResponse(json.dumps(body, ensure_ascii=False), status_code=status, mimetype=PROBLEM_JSON,
                             headers=_headers(headers))


def validation_problem(exc: ValidationError) -> func.HttpResponse:
    errors = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "body"
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        errors.append({"field": field, "message": message})
    fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
    return problem(422, "Invalid request", f"Invalid field(s): {fields}", errors=errors)


def json_body(req: func.HttpRequest, max_bytes: int) -> tuple[object | None, func.HttpResponse | None]:
    raw = req.get_body() or b""
    if len(raw) > max_bytes:
        return None, problem(413, "Payload too large", f"The request body is larger than {max_bytes} bytes.")
    if not raw.strip():
        return None, problem(400, "Missing body", "The request body must be a JSON object.")
    try:
        return jsonsafe.loads(raw), None
    except jsonsafe.JsonRejected as exc:
        return None, problem(400, "Malformed JSON", f"The request body is not accepted as JSON: {exc}.",
                             errors=[{"field": "body", "message": str(exc)}])


def route_tenant(req: func.HttpRequest, store: DocumentStore) -> tuple[TenantConfig | None, func.HttpResponse | None]:
    """The shop named by the route's ``{tenant}``, or the 404 problem when no shop is registered under it."""
    tenant_id = req.route_params.get("tenant", "")
    tenant = get_tenant(tenant_id, store) if re.match(TENANT_ID_PATTERN, tenant_id) else None
    if tenant is None:
        return None, problem(404, "Unknown tenant", f"No shop is registered under tenant id '{tenant_id[:64]}'.",
                             errors=[{"field": "tenant", "message": "not found"}])
    return tenant, None
