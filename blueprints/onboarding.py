"""Onboarding a shop after deployment: ``POST /api/operator/tenants/{tenant}/import`` with the tenant folder as an
``application/zip`` body, or ``{"blob_prefix": "<tenant>/..."}`` naming its folder in the knowledge container;
``?dry_run=true`` validates and reports without writing. Operator auth as on the other operator routes (the shop
need not exist yet); the answer is the import report (counts and warnings)."""

from __future__ import annotations

import logging
import re

import azure.functions as func
from azure.core.exceptions import AzureError
from pydantic import ValidationError

from blueprints.knowledge import _knowledge_blobs
from blueprints.problems import json_body, json_response, problem, validation_problem
from core.auth import AuthError, authorize_operator
from core.models import TENANT_ID_PATTERN
from core.services import get_services
from core.tenants import TenantImportError
from core.tenants.onboarding import (
    MAX_UPLOAD_BYTES,
    BlobImport,
    UploadError,
    import_upload,
    unpack_blobs,
    unpack_zip,
)

bp = func.Blueprint()
log = logging.getLogger("shopdesk.onboarding")
ZIP_TYPES = {"application/zip", "application/x-zip-compressed"}


def _dry_run(req: func.HttpRequest) -> bool | None:
    value = (req.params.get("dry_run") or "false").strip().lower()
    return {"true": True, "1": True, "false": False, "0": False}.get(value)


@bp.route(route="operator/tenants/{tenant}/import", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
def operator_import_tenant(req: func.HttpRequest) -> func.HttpResponse:
    services = get_services()
    tenant_id = req.route_params.get("tenant", "")
    if not re.match(TENANT_ID_PATTERN, tenant_id):
        return problem(422, "Invalid tenant id", "A tenant id is lowercase letters, digits and dashes.",
                       errors=[{"field": "tenant", "message": "lowercase letters, digits and dashes"}])
    try:
        authorize_operator(services.settings, tenant_id, req.headers)
    except AuthError as exc:
        return problem(exc.status, exc.title, exc.detail)
    dry_run = _dry_run(req)
    if dry_run is None:
        return problem(422, "Invalid query", "dry_run must be true or false.",
                       errors=[{"field": "dry_run", "message": "must be true or false"}])
    content_type = (req.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type in ZIP_TYPES:
        body = req.get_body() or b""
        if len(body) > MAX_UPLOAD_BYTES:
            return problem(413, "Payload too large", f"The zip is larger than {MAX_UPLOAD_BYTES} bytes.",
                           errors=[{"field": "body", "message": "too large"}])
        if not body:
            return problem(400, "Missing body", "The request body must be the tenant folder as a zip.",
                           errors=[{"field": "body", "message": "empty"}])
        source = "zip"

        def unpack(folder):
            return unpack_zip(body, folder)
    elif content_type == "application/json":
        data, error = json_body(req, max_bytes=4096)
        if error:
            return error
        try:
            request = BlobImport.model_validate(data)
        except ValidationError as exc:
            return validation_problem(exc)
        prefix = request.blob_prefix.lstrip("/")
        if not (prefix == tenant_id or prefix.startswith(f"{tenant_id}/")) or ".." in prefix.split("/"):
            return problem(422, "Invalid blob prefix", f"blob_prefix must be '{tenant_id}/' or a folder below it.",
                           errors=[{"field": "blob_prefix", "message": "outside the tenant's folder"}])
        prefix = prefix.rstrip("/") + "/"
        blobs = _knowledge_blobs(services.settings)
        source = "blobs"

        def unpack(folder):
            return unpack_blobs(blobs.read_prefix(prefix), prefix, folder)
    else:
        return problem(415, "Unsupported media type", "Send the tenant folder as application/zip, or "
                       "application/json {\"blob_prefix\": ...}.",
                       errors=[{"field": "Content-Type", "message": "application/zip or application/json"}])
    try:
        report = import_upload(tenant_id, unpack, services.store, knowledge=services.knowledge, dry_run=dry_run)
    except UploadError as exc:
        return problem(exc.status, "Upload refused", str(exc), errors=[{"field": exc.field, "message": str(exc)}])
    except TenantImportError as exc:
        return problem(422, "Tenant folder refused", str(exc), errors=[{"field": exc.field, "message": str(exc)}])
    except AzureError as exc:  # the knowledge container cannot be read just now
        log.warning("tenant=%s import from blobs failed: %s", tenant_id, type(exc).__name__)
        return problem(503, "Knowledge container unavailable", "The knowledge container could not be read; retry.",
                       headers={"Retry-After": "10"})
    log.info("tenant=%s imported from %s dry_run=%s documents=%s products=%s orders=%s customers=%s warnings=%s",
             tenant_id, source, dry_run, report.documents, report.products, report.orders, report.customers,
             len(report.warnings))
    return json_response(report.model_dump(), 200 if dry_run else 201)
