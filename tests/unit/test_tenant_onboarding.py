"""Onboarding after deploy: POST /api/operator/tenants/{tenant}/import with a zip of the tenant folder (or a blob
prefix) validates, imports and reports counts and warnings; a dry run writes nothing; bad uploads get a 4xx
problem naming the field; zip entries cannot leave the folder; the command line prints the same warnings."""

from __future__ import annotations

import io
import json
import stat
import zipfile

import azure.functions as func
import pytest

from core.auth import issue_token
from core.tenants import get_tenant

TENANT_JSON = {"id": "velo", "name": "Vélo Rapide", "languages": ["en", "fr-CA"], "currency": "CAD"}
ARTICLE = "---\ntitle: 'Shipping: how long?'  # quoted, with a colon\nlang: en\ncategory: policy\n---\n# Shipping\n\n" \
          "We ship across Canada in 3 to 5 business days.\n"
ORDERS = {"orders": [{"id": 1, "order_number": 5001, "line_items": [{"title": "Bell", "quantity": 1}]},
                     {"id": 2, "order_number": 5002}]}


def make_zip(files: dict[str, object], *, top: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            data = content if isinstance(content, str | bytes) else json.dumps(content)
            archive.writestr(top + name, data)
    return buffer.getvalue()


def shop_zip(**overrides) -> bytes:
    files = {"tenant.json": TENANT_JSON, "articles/shipping.md": ARTICLE, "orders.json": ORDERS}
    files.update(overrides)
    return make_zip({k: v for k, v in files.items() if v is not None})


def call(functions, tenant: str, body: bytes, *, content_type="application/zip", params=None, headers=None):
    handler = next(f.get_user_function() for f in functions if f.get_function_name() == "operator_import_tenant")
    req = func.HttpRequest("POST", f"http://localhost/api/operator/tenants/{tenant}/import", body=body,
                           headers={"content-type": content_type, **(headers or {})}, route_params={"tenant": tenant},
                           params=params or {})
    response = handler(req)
    return response.status_code, json.loads(response.get_body()), response.mimetype


def refused(result, status: int, field: str) -> dict:
    code, body, mimetype = result
    assert (code, mimetype) == (status, "application/problem+json"), body
    assert field in [e["field"] for e in body["errors"]], body
    assert "Traceback" not in json.dumps(body)
    return body


def test_a_zip_onboards_a_new_shop_and_reports_counts_and_warnings(services, functions):
    status, report, _ = call(functions, "velo", shop_zip())
    assert status == 201
    assert (report["documents"], report["products"], report["orders"], report["customers"]) == (1, 0, 2, 0)
    warnings = " | ".join(report["warnings"])
    assert "'fr-CA'" in warnings and "customers.json is missing" in warnings and "#5002" in warnings
    assert "#5001" not in warnings
    tenant = get_tenant("velo", services.store)
    assert tenant is not None and tenant.name == "Vélo Rapide"
    [doc] = services.store.list("velo", "kb")
    assert doc.body["title"] == "Shipping: how long?" and doc.body["category"] == "policy"
    hits = services.knowledge.search("velo", "how long does shipping take?", 1)
    assert hits and hits[0].doc_id == doc.id


def test_a_zip_with_one_top_folder_is_read_from_it(services, functions):
    body = make_zip({"tenant.json": TENANT_JSON, "a.md": ARTICLE}, top="velo-export/")
    status, report, _ = call(functions, "velo", body)
    assert status == 201 and report["documents"] == 1


def test_a_dry_run_reports_and_writes_nothing(services, functions):
    status, report, _ = call(functions, "velo", shop_zip(), params={"dry_run": "true"})
    assert status == 200 and report["dry_run"] is True and report["documents"] == 1
    assert get_tenant("velo", services.store) is None and not services.store.list("velo", "kb")


def test_not_a_zip_is_refused_naming_the_body(services, functions):
    refused(call(functions, "velo", b"PK but not really"), 400, "body")


def test_a_zip_without_tenant_json_is_refused_naming_it(services, functions):
    refused(call(functions, "velo", shop_zip(**{"tenant.json": None})), 422, "tenant.json")


@pytest.mark.parametrize("name", ["../evil.md", "/etc/evil.md", "articles/../../evil.md", "C:/evil.md"])
def test_zip_entries_cannot_leave_the_tenant_folder(services, functions, name, tmp_path):
    refused(call(functions, "velo", shop_zip(**{name: ARTICLE})), 400, "body")
    assert get_tenant("velo", services.store) is None


def test_a_zip_entry_that_is_a_link_is_refused(services, functions):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("tenant.json", json.dumps(TENANT_JSON))
        link = zipfile.ZipInfo("articles/passwd.md")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    refused(call(functions, "velo", buffer.getvalue()), 400, "body")


def test_oversized_uploads_are_refused(services, functions, monkeypatch):
    from blueprints import onboarding as route
    from core.tenants import onboarding

    monkeypatch.setattr(onboarding, "MAX_UNPACKED_BYTES", 1000)
    refused(call(functions, "velo", shop_zip(**{"big.md": "# Big\n\n" + "x" * 5000})), 413, "body")
    monkeypatch.setattr(route, "MAX_UPLOAD_BYTES", 100)
    refused(call(functions, "velo", shop_zip()), 413, "body")


def test_a_tenant_json_naming_another_shop_is_refused(services, functions):
    body = refused(call(functions, "velo", shop_zip(**{"tenant.json": {**TENANT_JSON, "id": "demo"}})), 422,
                   "tenant.json.id")
    assert "'demo'" in body["detail"] and "'velo'" in body["detail"]
    assert get_tenant("demo", services.store).name != "Vélo Rapide"


def test_invalid_files_are_named(services, functions):
    refused(call(functions, "velo", shop_zip(**{"orders.json": "{not json"})), 422, "orders.json")
    refused(call(functions, "velo", shop_zip(**{"tenant.json": {**TENANT_JSON, "currency": 5}})), 422,
            "tenant.json.currency")
    refused(call(functions, "velo", shop_zip(**{"articles/bad.md": "---\ntitle: [unclosed\n---\n# X\n\nbody\n"})),
            422, "articles/bad.md")


def test_request_shape_is_checked(services, functions):
    refused(call(functions, "Bad_Id", shop_zip()), 422, "tenant")
    refused(call(functions, "velo", shop_zip(), params={"dry_run": "maybe"}), 422, "dry_run")
    refused(call(functions, "velo", shop_zip(), content_type="text/plain"), 415, "Content-Type")
    refused(call(functions, "velo", b"", content_type="application/zip"), 400, "body")
    refused(call(functions, "velo", b'{"blob_prefix": "demo/"}', content_type="application/json"), 422,
            "blob_prefix")
    refused(call(functions, "velo", b'{"blob_prefix": "velo/../demo/"}', content_type="application/json"), 422,
            "blob_prefix")
    refused(call(functions, "velo", b'{"prefix": "velo/"}', content_type="application/json"), 422, "prefix")


def test_an_operator_of_another_shop_cannot_import(services, functions):
    token = issue_token(services.settings, "demo", scope="operator")
    code, body, _ = call(functions, "velo", shop_zip(), headers={"authorization": f"Bearer {token}"})
    assert code in (401, 403) and get_tenant("velo", services.store) is None


def test_the_command_line_prints_the_same_warnings(services, tmp_path, capsys):
    from core.tenants.__main__ import main

    archive = tmp_path / "velo.zip"
    archive.write_bytes(shop_zip())
    assert main(["import", "velo", str(archive)]) == 0
    out, err = capsys.readouterr()
    report = json.loads(out.strip().splitlines()[-1])
    assert report["warnings"] and all(f"warning: velo: {w}" in err for w in report["warnings"])
    folder = tmp_path / "velo"
    with zipfile.ZipFile(archive) as z:
        z.extractall(folder)
    (folder / "tenant.json").write_text(json.dumps({**TENANT_JSON, "id": "other"}))
    assert main(["import", "velo", str(folder)]) == 2
    assert "id is 'other' but the import is for tenant 'velo'" in capsys.readouterr().err
