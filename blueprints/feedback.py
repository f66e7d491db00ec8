"""A customer's thumbs up or down (and optional comment) on one reply of their conversation: the same chat
credential and conversation token as reading the conversation; stored per turn (core.feedback) and counted by the
analytics agent as the shop's satisfaction."""

from __future__ import annotations

import azure.functions as func
from pydantic import ValidationError

from blueprints.chat import _customer, _owned_conversation
from blueprints.problems import json_body, json_response, problem, validation_problem
from core import feedback
from core.services import get_services

bp = func.Blueprint()


@bp.route(route="tenants/{tenant}/conversations/{conversation_id}/turns/{turn_id}/feedback", methods=["POST"],
          auth_level=func.AuthLevel.ANONYMOUS)
def turn_feedback(req: func.HttpRequest) -> func.HttpResponse:
    found = _customer(req)
    if isinstance(found, func.HttpResponse):
        return found
    tenant, caller = found
    conversation_id, turn_id = req.route_params.get("conversation_id", ""), req.route_params.get("turn_id", "")
    state = _owned_conversation(req, tenant, caller, conversation_id)
    if isinstance(state, func.HttpResponse):
        return state
    if turn_id not in {t.turn_id for t in state.turns}:
        return problem(404, "Unknown turn", "No reply of this conversation has that turn id.",
                       errors=[{"field": "turn_id", "message": "not found"}])
    data, error = json_body(req, max_bytes=8192)
    if error:
        return error
    try:
        given = feedback.FeedbackIn.model_validate(data)
    except ValidationError as exc:
        return validation_problem(exc)
    stored = feedback.record(get_services().store, tenant.id, conversation_id, turn_id, given,
                             ttl_seconds=tenant.retention_days * 86_400)
    return json_response(stored.model_dump(mode="json"), 201)
