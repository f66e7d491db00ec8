"""Vendor webhooks: ``POST /api/webhooks/shopify/{tenant}`` and ``POST /api/webhooks/zendesk/{tenant}``.

Verify the signature over the raw body and the timestamp window, then parse the body (bounded: a signed but
pathological body is still a 400), claim the delivery id and the event's identity (a vendor retry or a replay of
the same event under a new delivery id answers 200 with ``duplicate`` and publishes nothing), publish the CloudEvents
to the bus and answer 202: the work happens behind the queues.
Anonymous at the Functions level: the vendor's HMAC is the authentication.
"""

from __future__ import annotations

import logging

import azure.functions as func

from blueprints.problems import json_response, problem, route_tenant
from core.events import webhooks
from core.services import get_services

bp = func.Blueprint()
log = logging.getLogger("shopdesk.webhooks")
MAX_BODY = 512 * 1024


def _receive(req: func.HttpRequest, vendor: str) -> func.HttpResponse:
    services = get_services()
    settings = services.settings
    tenant, refused = route_tenant(req, services.store)
    if tenant is None:
        return refused  # type: ignore[return-value]
    tenant_id = tenant.id
    body = req.get_body() or b""
    if len(body) > MAX_BODY:
        return problem(413, "Payload too large", f"The webhook body is larger than {MAX_BODY} bytes.")
    try:
        if vendor == "shopify":
            secret = webhooks.secret_for(settings.SHOPIFY_WEBHOOK_SECRET_NAME, tenant_id)
            webhooks.verify_shopify(secret, body, req.headers, tenant_id=tenant_id,
                                    max_age=settings.WEBHOOK_MAX_AGE_SECONDS)
            delivery = webhooks.shopify_events(tenant_id, req.headers, body)
        else:
            secret = webhooks.secret_for(settings.ZENDESK_WEBHOOK_SECRET_NAME, tenant_id)
            webhooks.verify_zendesk(secret, body, req.headers, tenant_id=tenant_id,
                                    max_age=settings.WEBHOOK_MAX_AGE_SECONDS)
            delivery = webhooks.zendesk_events(tenant_id, req.headers, body)
    except webhooks.WebhookRejected as rejected:
        return problem(rejected.status, rejected.title, rejected.detail)
    bus = services.events
    events = delivery.events
    if not webhooks.claim_delivery(services.store, tenant_id, vendor, delivery,
                                   settings.EVENTS_RETENTION_DAYS * 86_400):
        bus.ledger.count(tenant_id, "webhook_duplicates")
        log.info("webhook duplicate vendor=%s tenant=%s", vendor, tenant_id)
        return json_response({"accepted": True, "duplicate": True})
    try:
        bus.bus.publish(events)
    except Exception:
        webhooks.release_delivery(services.store, tenant_id, vendor, delivery)
        raise
    log.info("webhook accepted vendor=%s tenant=%s types=%s", vendor, tenant_id, ",".join(e.type for e in events))
    return json_response({"accepted": True, "events": [{"id": e.id, "type": e.type, "subject": e.subject}
                                                       for e in events]}, 202)


@bp.route(route="webhooks/shopify/{tenant}", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
def shopify_webhook(req: func.HttpRequest) -> func.HttpResponse:
    return _receive(req, "shopify")


@bp.route(route="webhooks/zendesk/{tenant}", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
def zendesk_webhook(req: func.HttpRequest) -> func.HttpResponse:
    return _receive(req, "zendesk")
