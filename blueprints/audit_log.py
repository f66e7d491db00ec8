"""The shop's data-access audit log for its operators (FUNCTION auth, then scoped to the route's tenant): one record
per access to conversations, orders and PII mappings, kept for audited shops (core.audit)."""

from __future__ import annotations

import azure.durable_functions as df
import azure.functions as func

from blueprints.operator_access import operator_tenant
from blueprints.problems import json_response
from core import audit
from core.services import get_services

bp = df.Blueprint()


@bp.route(route="operator/tenants/{tenant}/audit", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def audit_log(req: func.HttpRequest) -> func.HttpResponse:
    services = get_services()
    tenant, _principal, error = operator_tenant(req, services)
    if error:
        return error
    return json_response({"tenant_id": tenant.id, "records": audit.list_records(services.store, tenant.id)})
