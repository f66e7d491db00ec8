"""Operator API (function keys; Entra ID / App Service authentication in Azure): promotions, sync schedules,
announcements the response agent mentions, dead letters and replay, event statistics."""

from __future__ import annotations

from datetime import UTC, datetime

import azure.functions as func
from pydantic import BaseModel, Field, ValidationError

from blueprints.operator_access import operator_tenant
from blueprints.problems import json_body, json_response, problem, validation_problem
from core.events import operations
from core.events.catalog import AGENTS
from core.services import get_services

bp = func.Blueprint()
BASE = "operator/tenants/{tenant}"


def _tenant(req: func.HttpRequest) -> tuple[str, func.HttpResponse | None]:
    _, _, refused = operator_tenant(req, get_services())
    return req.route_params.get("tenant", ""), refused


def _model(req: func.HttpRequest, model: type[BaseModel]):
    data, error = json_body(req, max_bytes=32_768)
    if error:
        return None, error
    try:
        return model.model_validate(data if data is not None else {}), None
    except ValidationError as exc:
        return None, validation_problem(exc)


def _defaults() -> dict[str, str]:
    settings = get_services().settings
    return {"products": settings.SYNC_PRODUCTS_SCHEDULE, "analytics": settings.SYNC_ANALYTICS_SCHEDULE}


@bp.route(route=BASE + "/promotions", methods=["GET", "POST"], auth_level=func.AuthLevel.FUNCTION)
def operator_promotions(req: func.HttpRequest) -> func.HttpResponse:
    tenant_id, error = _tenant(req)
    if error:
        return error
    store = get_services().store
    if req.method == "GET":
        return json_response({"promotions": [p.model_dump() for p in operations.list_promotions(store, tenant_id)]})
    data, error = _model(req, operations.PromotionIn)
    if error:
        return error
    return json_response(operations.create_promotion(store, tenant_id, data).model_dump(), 201)


@bp.route(route=BASE + "/promotions/{promotion_id}", methods=["DELETE"], auth_level=func.AuthLevel.FUNCTION)
def operator_cancel_promotion(req: func.HttpRequest) -> func.HttpResponse:
    tenant_id, error = _tenant(req)
    if error:
        return error
    store = get_services().store
    promo_id = req.route_params.get("promotion_id", "")
    promo = operations.set_promotion_status(store, tenant_id, promo_id, "cancelled",
                                            only_from=("scheduled", "active"))
    if promo is None:
        return problem(404, "Unknown promotion", "No such promotion for this shop.")
    operations.withdraw_announcement(store, tenant_id, promo_id)
    return json_response(promo.model_dump())


@bp.route(route=BASE + "/sync-schedules", methods=["GET", "PUT"], auth_level=func.AuthLevel.FUNCTION)
def operator_sync_schedules(req: func.HttpRequest) -> func.HttpResponse:
    tenant_id, error = _tenant(req)
    if error:
        return error
    store = get_services().store
    if req.method == "GET":
        return json_response(operations.get_sync_schedules(store, tenant_id, _defaults()))
    data, error = _model(req, operations.SyncSchedulesIn)
    if error:
        return error
    return json_response(operations.set_sync_schedules(store, tenant_id, data, _defaults()))


@bp.route(route=BASE + "/announcements", methods=["GET", "POST"], auth_level=func.AuthLevel.FUNCTION)
def operator_announcements(req: func.HttpRequest) -> func.HttpResponse:
    tenant_id, error = _tenant(req)
    if error:
        return error
    store = get_services().store
    if req.method == "GET":
        announcements = operations.list_announcements(store, tenant_id)
        return json_response({"announcements": [a.model_dump() for a in announcements]})
    data, error = _model(req, operations.AnnouncementIn)
    if error:
        return error
    return json_response(operations.publish_announcement(store, tenant_id, data).model_dump(), 201)


@bp.route(route=BASE + "/announcements/{announcement_id}", methods=["DELETE"], auth_level=func.AuthLevel.FUNCTION)
def operator_withdraw_announcement(req: func.HttpRequest) -> func.HttpResponse:
    tenant_id, error = _tenant(req)
    if error:
        return error
    if not operations.withdraw_announcement(get_services().store, tenant_id, req.route_params["announcement_id"]):
        return problem(404, "Unknown announcement", "No such announcement for this shop.")
    return func.HttpResponse(status_code=204)


@bp.route(route=BASE + "/dead-letters", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def operator_dead_letters(req: func.HttpRequest) -> func.HttpResponse:
    tenant_id, error = _tenant(req)
    if error:
        return error
    letters = get_services().events.ledger.dead_letters(tenant_id)
    return json_response({"dead_letters": [{"id": d["id"], "agent": d["agent"], "type": d["event"]["type"],
                                    "subject": d["event"]["subject"], "time": d["event"]["time"],
                                    "error": d["error"], "attempts": d["attempts"], "at": d["at"]}
                                   for d in letters]})


class DeadLetterReplay(BaseModel):
    model_config = {"extra": "forbid"}
    ids: list[str] | None = None


@bp.route(route=BASE + "/dead-letters/replay", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
def operator_replay_dead_letters(req: func.HttpRequest) -> func.HttpResponse:
    tenant_id, error = _tenant(req)
    if error:
        return error
    data, error = _model(req, DeadLetterReplay)
    if error:
        return error
    return json_response({"replayed": get_services().events.bus.replay_dead_letters(tenant_id, data.ids)}, 202)


class RangeReplay(BaseModel):
    model_config = {"extra": "forbid", "populate_by_name": True}
    start: str = Field(alias="from", description="ISO 8601 time, inclusive")
    end: str = Field(alias="to", description="ISO 8601 time, inclusive")
    agents: list[str] | None = None


@bp.route(route=BASE + "/events/replay", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
def operator_replay_events(req: func.HttpRequest) -> func.HttpResponse:
    tenant_id, error = _tenant(req)
    if error:
        return error
    data, error = _model(req, RangeReplay)
    if error:
        return error
    unknown = [a for a in data.agents or [] if a not in AGENTS]
    if unknown:
        return problem(422, "Unknown agent", f"Agents are {', '.join(AGENTS)}.",
                       errors=[{"field": "agents", "message": f"unknown: {', '.join(unknown)}"}])
    try:
        start, end = (_stamp(v) for v in (data.start, data.end))
    except ValueError:
        return problem(422, "Invalid time", "from and to must be ISO 8601 times.")
    return json_response({"replayed": get_services().events.bus.replay_range(tenant_id, start, end, data.agents)}, 202)


def _stamp(value: str) -> str:
    """The event log's time format (UTC, milliseconds, Z) so that ranges compare as strings."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@bp.route(route=BASE + "/events/stats", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def operator_event_stats(req: func.HttpRequest) -> func.HttpResponse:
    tenant_id, error = _tenant(req)
    if error:
        return error
    return json_response(get_services().events.ledger.statistics(tenant_id))
