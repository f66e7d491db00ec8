"""Operator tenancy routes (FUNCTION auth, then scoped to the route's tenant by core.auth):
a conversation's trace, customer session tokens, and the data-access audit log."""

from __future__ import annotations

import re

import azure.durable_functions as df
import azure.functions as func

from blueprints.problems import json_body, json_response, problem, route_tenant
from core import audit, conversations
from core.auth import AuthError, authorize_operator, issue_token
from core.services import get_services
from core.telemetry import turn_trace

bp = df.Blueprint()
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def _operator(req: func.HttpRequest):
    """(services, tenant, principal) or a problem response: unknown tenant 404, not authorized 401/403."""
    services = get_services()
    tenant, refused = route_tenant(req, services.store)
    if tenant is None:
        return None, refused
    try:
        principal = authorize_operator(services.settings, tenant.id, req.headers)
    except AuthError as exc:
        return None, problem(exc.status, exc.title, exc.detail)
    return (services, tenant, principal), None


@bp.route(route="operator/tenants/{tenant}/conversations/{conversation}/trace", methods=["GET"],
          auth_level=func.AuthLevel.FUNCTION)
def conversation_trace(req: func.HttpRequest) -> func.HttpResponse:
    found, error = _operator(req)
    if error:
        return error
    services, tenant, principal = found
    conversation_id = req.route_params.get("conversation", "")
    if not _ID_RE.match(conversation_id) or conversations.load(services.store, tenant.id, conversation_id) is None:
        return problem(404, "Unknown conversation", "No conversation of this shop has that id.")
    audit.record(services.store, services.settings, tenant, actor_kind="operator", actor_id=principal.subject,
                 action="conversation.trace_read", resource_kind="conversation", resource_id=conversation_id,
                 via=principal.via)
    return json_response(turn_trace(tenant.id, conversation_id))


@bp.route(route="operator/tenants/{tenant}/sessions", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
def issue_session(req: func.HttpRequest) -> func.HttpResponse:
    """A shop's back end asks for a chat session token for its signed-in customer and hands it to its widget."""
    found, error = _operator(req)
    if error:
        return error
    services, tenant, _principal = found
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


@bp.route(route="operator/tenants/{tenant}/audit", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def audit_log(req: func.HttpRequest) -> func.HttpResponse:
    found, error = _operator(req)
    if error:
        return error
    services, tenant, _principal = found
    return json_response({"tenant_id": tenant.id, "records": audit.list_records(services.store, tenant.id)})
