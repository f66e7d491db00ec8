"""The operator API the console needs beyond promotions, schedules, dead letters and traces: the shop's
conversations (filtered), one conversation's transcript (audited) and the analytics dashboard. Function key, then
narrowed to the route's shop by an operator token or Entra ID principal, as the rest of the operator API."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import azure.functions as func
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from blueprints.operator_access import operator_tenant
from blueprints.problems import json_response, problem, validation_problem
from core import audit, console
from core.agents import analytics
from core.openapi_models import OPAQUE_ID_PATTERN
from core.services import get_services

bp = func.Blueprint()
BASE = "operator/tenants/{tenant}"


class AnalyticsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days: int = Field(default=14, ge=1, le=90)


def _query(req: func.HttpRequest, model: type[BaseModel]):
    try:
        # ``code`` is the function key when it is given in the query string.
        return model.model_validate({k: v for k, v in req.params.items() if k != "code"}), None
    except ValidationError as exc:
        return None, validation_problem(exc)


@bp.route(route=BASE + "/conversations", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def operator_conversations(req: func.HttpRequest) -> func.HttpResponse:
    services = get_services()
    tenant, _, refused = operator_tenant(req, services)
    if refused is not None:
        return refused
    wanted, error = _query(req, console.ConversationFilter)
    if error:
        return error
    return json_response({"conversations": console.list_conversations(services.store, tenant.id, wanted)})


@bp.route(route=BASE + "/conversations/{conversation}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def operator_transcript(req: func.HttpRequest) -> func.HttpResponse:
    services = get_services()
    tenant, principal, refused = operator_tenant(req, services)
    if refused is not None:
        return refused
    conversation_id = req.route_params.get("conversation", "")
    found = console.transcript(services.store, tenant.id, conversation_id) \
        if re.match(OPAQUE_ID_PATTERN, conversation_id) else None
    if found is None:
        return problem(404, "Unknown conversation", "No conversation of this shop has that id.",
                       errors=[{"field": "conversation", "message": "not found"}])
    audit.record(services.store, services.settings, tenant, actor_kind="operator", actor_id=principal.subject,
                 action="conversation.transcript_read", resource_kind="conversation", resource_id=conversation_id,
                 via=principal.via)
    return json_response(found)


@bp.route(route=BASE + "/analytics", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def operator_analytics(req: func.HttpRequest) -> func.HttpResponse:
    services = get_services()
    tenant, _, refused = operator_tenant(req, services)
    if refused is not None:
        return refused
    wanted, error = _query(req, AnalyticsQuery)
    if error:
        return error
    today = datetime.now(UTC).date().isoformat()
    return json_response(analytics.daily_series(services.store, tenant.id, today, wanted.days,
                                                budget=tenant.daily_llm_budget))
