"""A conversation's trace for the shop's operators (FUNCTION auth, then scoped to the route's tenant): its agent
steps, integration calls and cost. Every read is recorded in the shop's data-access audit log."""

from __future__ import annotations

import re

import azure.durable_functions as df
import azure.functions as func

from blueprints.operator_access import operator_tenant
from blueprints.problems import json_response, problem
from core import audit, conversations
from core.services import get_services
from core.telemetry import turn_trace

bp = df.Blueprint()
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


@bp.route(route="operator/tenants/{tenant}/conversations/{conversation}/trace", methods=["GET"],
          auth_level=func.AuthLevel.FUNCTION)
def conversation_trace(req: func.HttpRequest) -> func.HttpResponse:
    services = get_services()
    tenant, principal, error = operator_tenant(req, services)
    if error:
        return error
    conversation_id = req.route_params.get("conversation", "")
    if not _ID_RE.match(conversation_id) or conversations.load(services.store, tenant.id, conversation_id) is None:
        return problem(404, "Unknown conversation", "No conversation of this shop has that id.")
    audit.record(services.store, services.settings, tenant, actor_kind="operator", actor_id=principal.subject,
                 action="conversation.trace_read", resource_kind="conversation", resource_id=conversation_id,
                 via=principal.via)
    return json_response(turn_trace(tenant.id, conversation_id))
