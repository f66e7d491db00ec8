"""Chat session tokens (FUNCTION auth, then scoped to the route's tenant): a shop's back end asks for one for its
signed-in customer and hands it to its chat widget, which sends it as ``Authorization: Bearer``."""

from __future__ import annotations

import re

import azure.durable_functions as df
import azure.functions as func

from blueprints.operator_access import operator_tenant
from blueprints.problems import json_body, json_response, problem
from core.auth import issue_token
from core.services import get_services

bp = df.Blueprint()
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


@bp.route(route="operator/tenants/{tenant}/sessions", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
def issue_session(req: func.HttpRequest) -> func.HttpResponse:
    services = get_services()
    tenant, _principal, error = operator_tenant(req, services)
    if error:
        return error
    data, error = json_body(req, max_bytes=4096) if req.get_body() else ({}, None)
    if error:
        return error
    if not isinstance(data, dict):
        return problem(422, "Invalid request", "The request body must be a JSON object.")
    ttl = data.get("ttl_seconds", services.settings.SESSION_TOKEN_TTL_SECONDS)
    conversation_id, subject = data.get("conversation_id"), data.get("customer_ref")
    if not isinstance(ttl, int) or not 60 <= ttl <= 86400:
        return problem(422, "Invalid request", "ttl_seconds must be an integer from 60 to 86400.",
                       errors=[{"field": "ttl_seconds", "message": "out of range"}])
    for field, value in (("conversation_id", conversation_id), ("customer_ref", subject)):
        if value is not None and (not isinstance(value, str) or not _ID_RE.match(value)):
            return problem(422, "Invalid request", f"{field} must be 1-128 letters, digits, '-' or '_'.",
                           errors=[{"field": field, "message": "invalid format"}])
    token = issue_token(services.settings, tenant.id, ttl_seconds=ttl, conversation_id=conversation_id,
                        subject=subject)
    return json_response({"token": token, "token_type": "Bearer", "expires_in": ttl}, 201)
