"""The app's pages: the customer chat widget of a shop, the operator console, the API viewer, and the scripts and
styles they load. Pages carry no data: they call the JSON API with the customer's or operator's credentials."""

from __future__ import annotations

import azure.functions as func

from blueprints.problems import SAFE_HEADERS, problem, route_tenant
from core import web
from core.services import get_services

bp = func.Blueprint()

# Scripts and styles only from the app; the widget may be framed by the shop's site, the console may not.
_CSP = "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; connect-src 'self'; " \
       "base-uri 'none'; form-action 'self'; object-src 'none'"
WIDGET_HEADERS = {**SAFE_HEADERS, "Content-Security-Policy": _CSP + "; frame-ancestors *",
                  "Referrer-Policy": "no-referrer"}
CONSOLE_HEADERS = {**SAFE_HEADERS, "Content-Security-Policy": _CSP + "; frame-ancestors 'none'",
                   "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}
# Swagger UI sets inline styles on its elements.
DOCS_HEADERS = {**CONSOLE_HEADERS, "Content-Security-Policy": _CSP.replace("style-src 'self'",
                                                                             "style-src 'self' 'unsafe-inline'")
                + "; frame-ancestors 'none'"}


def _html(text: str, headers: dict[str, str]) -> func.HttpResponse:
    return func.HttpResponse(text, status_code=200, mimetype="text/html", charset="utf-8", headers=headers)


@bp.route(route="tenants/{tenant}/widget", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def chat_widget(req: func.HttpRequest) -> func.HttpResponse:
    """The shop's chat page (framed by the embed script, or opened on its own)."""
    tenant, refused = route_tenant(req, get_services().store)
    if tenant is None:
        return refused  # type: ignore[return-value]
    return _html(web.page("widget", tenant=tenant.id, shop=tenant.name, lang=tenant.default_language),
                 WIDGET_HEADERS)


@bp.route(route="console", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def operator_console(req: func.HttpRequest) -> func.HttpResponse:
    """The operator console: signs in in the browser, then calls the operator API."""
    return _html(web.page("console"), CONSOLE_HEADERS)


@bp.route(route="docs", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def api_docs(req: func.HttpRequest) -> func.HttpResponse:
    """Swagger UI over /api/openapi.json."""
    return _html(web.page("docs"), DOCS_HEADERS)


@bp.route(route="assets/{name}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def page_asset(req: func.HttpRequest) -> func.HttpResponse:
    """A script, style sheet or image of the pages (cached for an hour: the names are the files')."""
    found = web.asset(req.route_params.get("name", ""))
    if found is None:
        return problem(404, "Unknown asset", "No page asset has that name.",
                       errors=[{"field": "name", "message": "not found"}])
    body, media_type = found
    return func.HttpResponse(body, status_code=200, mimetype=media_type,
                             charset="utf-8", headers={"Cache-Control": "public, max-age=3600",
                                                       "X-Content-Type-Options": "nosniff"})
