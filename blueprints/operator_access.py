"""Who may call an operator route: the route's shop must exist (404 otherwise), and after the host's function-key
check an operator token or Entra ID principal narrows the caller to its own shop (401/403, core.auth)."""

from __future__ import annotations

import azure.functions as func

from blueprints.problems import problem, route_tenant
from core.auth import AuthError, Principal, authorize_operator
from core.services import Services
from core.tenants import TenantConfig


def operator_tenant(req: func.HttpRequest, services: Services
                    ) -> tuple[TenantConfig, Principal, None] | tuple[None, None, func.HttpResponse]:
    """(tenant, principal, None) for an allowed caller, else (None, None, the problem response)."""
    tenant, refused = route_tenant(req, services.store)
    if tenant is None:
        assert refused is not None
        return None, None, refused
    try:
        principal = authorize_operator(services.settings, tenant.id, req.headers)
    except AuthError as exc:
        return None, None, problem(exc.status, exc.title, exc.detail)
    return tenant, principal, None
