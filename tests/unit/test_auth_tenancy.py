"""Tenant authorization: widget keys and session tokens for chat, scoped operators, audit records without PII,
and every cross-tenant attempt refused (chat, operator API, token vault, knowledge)."""

from __future__ import annotations

import asyncio
import base64
import json

import azure.functions as func
import pytest

from core.auth import AuthError, authorize_chat, authorize_operator, issue_token, verify_token


@pytest.fixture(scope="module")
def handlers(functions):
    return {f.get_function_name(): f.get_user_function() for f in functions}


@pytest.fixture
def keyed(services):
    """demo requires a widget key; northwind-tea has its own key."""
    from core.tenants import TENANTS_COLLECTION, TENANTS_PARTITION, get_tenant

    for tenant_id, key, required in (("demo", "pk_demo_0123456789", True), ("northwind-tea", "pk_tea_987654", False)):
        tenant = get_tenant(tenant_id, services.store).model_copy(
            update={"widget_keys": [key], "require_chat_key": required})
        services.store.put(TENANTS_PARTITION, TENANTS_COLLECTION, tenant_id, tenant.model_dump(mode="json"))
    return services


BINDING = json.dumps({
    "taskHubName": "TestHub",
    "creationUrls": {"createNewInstancePostUri": "http://127.0.0.1:1/x", "createAndWaitOnNewInstancePostUri": "x"},
    "managementUrls": {"id": "INSTANCEID", "statusQueryGetUri": "http://127.0.0.1:1/s"},
    "rpcBaseUrl": "http://127.0.0.1:1/runtime/webhooks/durabletask/",
})


def chat(handlers, tenant, headers, body=None):
    req = func.HttpRequest("POST", f"http://localhost/api/tenants/{tenant}/chat", headers=headers,
                           route_params={"tenant": tenant},
                           body=json.dumps(body or {"message": "x" * 5000}).encode())
    return asyncio.run(handlers["chat"](req=req, client=BINDING))


def operator(handlers, name, tenant, headers=None, conversation="c" * 32, body=b""):
    route = {"tenant": tenant, "conversation": conversation}
    req = func.HttpRequest("GET", "http://localhost/api/operator/x", headers=headers or {}, route_params=route,
                           body=body)
    return handlers[name](req)


def principal(*roles: str) -> str:
    claims = [{"typ": "roles", "val": r} for r in roles] + [{"typ": "oid", "val": "0000-oid"}]
    return base64.b64encode(json.dumps({"auth_typ": "aad", "claims": claims}).encode()).decode()


# -- session tokens --------------------------------------------------------------------------------------------------


def test_session_token_round_trip_and_refusals(services):
    settings = services.settings
    token = issue_token(settings, "demo", conversation_id="conv1", subject="cust-9", now=1000, ttl_seconds=600)
    claims = verify_token(settings, token, "demo", now=1500)
    assert claims["t"] == "demo" and claims["c"] == "conv1" and claims["u"] == "cust-9"
    with pytest.raises(AuthError) as expired:
        verify_token(settings, token, "demo", now=1601)
    assert expired.value.status == 401
    with pytest.raises(AuthError) as other_tenant:
        verify_token(settings, token, "northwind-tea", now=1500)
    assert other_tenant.value.status == 403
    body, _, signature = token.partition(".")
    forged_body = base64.urlsafe_b64encode(base64.urlsafe_b64decode(body + "==").replace(b"demo", b"north")
                                           ).rstrip(b"=").decode()
    for forged in (f"{forged_body}.{signature}", token[:-2] + "AA", "not-a-token", token + "x"):
        with pytest.raises(AuthError) as bad:
            verify_token(settings, forged, "demo", now=1500)
        assert bad.value.status == 401
    with pytest.raises(AuthError) as scope:
        verify_token(settings, token, "demo", scope="operator", now=1500)
    assert scope.value.status == 403


def test_tokens_signed_with_another_key_are_refused(services):
    token = issue_token(services.settings, "demo")
    other = services.settings.model_copy(update={"SESSION_TOKEN_KEY": "another-deployment-key"})
    with pytest.raises(AuthError):
        verify_token(other, token, "demo")


# -- chat ------------------------------------------------------------------------------------------------------------


def test_chat_without_a_key_works_unless_the_tenant_requires_one(keyed):
    from core.tenants import get_tenant

    settings = keyed.settings
    tea = get_tenant("northwind-tea", keyed.store)
    assert authorize_chat(settings, tea, {}).via == "anonymous"
    with pytest.raises(AuthError) as required:
        authorize_chat(settings, get_tenant("demo", keyed.store), {})
    assert required.value.status == 401
    strict = settings.model_copy(update={"CHAT_REQUIRE_TENANT_KEY": True})
    with pytest.raises(AuthError):
        authorize_chat(strict, tea, {})
    assert authorize_chat(settings, tea, {"x-tenant-key": "pk_tea_987654"}).via == "widget_key"
    extra = settings.model_copy(update={"CHAT_TENANT_KEYS": json.dumps({"northwind-tea": ["pk_rotated_1"]})})
    assert authorize_chat(extra, tea, {"x-tenant-key": "pk_rotated_1"}).via == "widget_key"


def test_chat_with_another_tenants_key_or_token_is_refused_over_http(keyed, handlers):
    demo_token = issue_token(keyed.settings, "demo")
    attempts = [
        ("demo", {}, 401),  # required and missing
        ("demo", {"X-Tenant-Key": "pk_tea_987654"}, 403),  # the other shop's key
        ("northwind-tea", {"X-Tenant-Key": "pk_demo_0123456789"}, 403),
        ("northwind-tea", {"Authorization": f"Bearer {demo_token}"}, 403),  # the other shop's token
        ("demo", {"Authorization": "Bearer abc.def"}, 401),
    ]
    for tenant, headers, status in attempts:
        response = chat(handlers, tenant, headers)
        assert response.status_code == status, (tenant, headers, response.get_body())
        assert json.loads(response.get_body())["status"] == status
    # The right credentials get past authorization (here to the size check: 413, before any orchestration).
    assert chat(handlers, "demo", {"X-Tenant-Key": "pk_demo_0123456789"}).status_code == 413
    assert chat(handlers, "demo", {"Authorization": f"Bearer {demo_token}"}).status_code == 413
    assert chat(handlers, "northwind-tea", {}).status_code == 413


def test_token_bound_to_a_conversation_cannot_continue_another(keyed, handlers):
    from core import conversations

    for conversation in ("a" * 32, "b" * 32):
        state = conversations.ConversationState(tenant_id="demo", conversation_id=conversation)
        keyed.store.put("demo", conversations.COLLECTION, conversation, state.model_dump(mode="json"))
    token = issue_token(keyed.settings, "demo", conversation_id="b" * 32)
    other = chat(handlers, "demo", {"Authorization": f"Bearer {token}"}, {"message": "hi", "conversation_id": "a" * 32})
    assert other.status_code == 403
    own = chat(handlers, "demo", {"Authorization": f"Bearer {token}"},
               {"message": "x" * 5000, "conversation_id": "b" * 32})
    assert own.status_code == 413  # past authorization


# -- operator API ----------------------------------------------------------------------------------------------------


def test_operator_scoping(services):
    settings = services.settings
    assert authorize_operator(settings, "demo", {}).via == "function_key"
    assert authorize_operator(settings, "demo", {"x-ms-client-principal": principal("Operator.demo")}).via == "entra"
    assert authorize_operator(settings, "demo", {"x-ms-client-principal": principal("Operator.All")}).via == "entra"
    with pytest.raises(AuthError) as other:
        authorize_operator(settings, "northwind-tea", {"x-ms-client-principal": principal("Operator.demo")})
    assert other.value.status == 403
    entra = settings.model_copy(update={"OPERATOR_AUTH": "entra"})
    with pytest.raises(AuthError) as anonymous:
        authorize_operator(entra, "demo", {})
    assert anonymous.value.status == 401
    token = issue_token(settings, "demo", scope="operator")
    assert authorize_operator(entra, "demo", {"authorization": f"Bearer {token}"}).via == "operator_token"
    with pytest.raises(AuthError):
        authorize_operator(entra, "northwind-tea", {"authorization": f"Bearer {token}"})
    chat_token = issue_token(settings, "demo")
    with pytest.raises(AuthError):
        authorize_operator(settings, "demo", {"authorization": f"Bearer {chat_token}"})


def test_operator_routes_refuse_another_tenant(services, handlers):
    demo_operator = {"x-ms-client-principal": principal("Operator.demo")}
    for name in ("conversation_trace", "audit_log"):
        response = operator(handlers, name, "northwind-tea", demo_operator)
        assert response.status_code == 403, name
    token = issue_token(services.settings, "northwind-tea", scope="operator")
    response = operator(handlers, "conversation_trace", "demo", {"authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert operator(handlers, "audit_log", "demo", demo_operator).status_code == 200
    assert operator(handlers, "conversation_trace", "nobody", demo_operator).status_code == 404


def test_session_route_issues_a_token_for_its_tenant_only(services, handlers):
    req = func.HttpRequest("POST", "http://localhost/api/operator/tenants/demo/sessions", headers={},
                           route_params={"tenant": "demo"}, body=json.dumps({"ttl_seconds": 120}).encode())
    response = handlers["issue_session"](req)
    assert response.status_code == 201
    token = json.loads(response.get_body())["token"]
    assert verify_token(services.settings, token, "demo")["t"] == "demo"
    with pytest.raises(AuthError):
        verify_token(services.settings, token, "northwind-tea")
    bad = func.HttpRequest("POST", "x", headers={}, route_params={"tenant": "demo"},
                           body=json.dumps({"ttl_seconds": 5}).encode())
    assert handlers["issue_session"](bad).status_code == 422


# -- other tenants' data -----------------------------------------------------------------------------------------


def test_token_vault_of_another_tenant_is_not_readable(tmp_path):
    from datetime import UTC, datetime, timedelta

    from core.pii.vaults.local import LocalVault
    from core.pii.vaults.port import MappingRecord

    vault = LocalVault(tmp_path / "vault.sqlite", tmp_path / "vault.key")
    record = MappingRecord(entries=[{"token": "TOKEN_0b1c", "value": "marie@example.com"}],
                           expires_at=datetime.now(UTC) + timedelta(days=1))
    vault.save("demo", "conv-1", record)
    assert vault.load("demo", "conv-1") is not None
    assert vault.load("northwind-tea", "conv-1") is None
    vault.delete("northwind-tea", "conv-1")  # another tenant cannot delete it either
    assert vault.load("demo", "conv-1") is not None


def test_knowledge_of_another_tenant_is_never_returned(services):
    search = services.knowledge.search

    demo_hits = search("demo", "organic mango soap", k=3)
    assert demo_hits and any("mango" in h.title.lower() or "mango" in h.passage.lower() for h in demo_hits)
    demo_ids = {h.doc_id for h in demo_hits}
    tea_hits = search("northwind-tea", "organic mango soap", k=10)
    tea_docs = {d.id for d in services.store.list("northwind-tea", "kb", limit=10_000)}
    demo_docs = {d.id for d in services.store.list("demo", "kb", limit=10_000)}
    assert tea_docs and {h.doc_id for h in tea_hits} <= tea_docs
    assert not ({h.doc_id for h in tea_hits} & (demo_docs - tea_docs))
    assert demo_ids <= demo_docs


# -- audit -----------------------------------------------------------------------------------------------------------


def test_audit_records_hipaa_access_without_raw_pii(services):
    from core import audit
    from core.tenants import get_tenant

    demo = get_tenant("demo", services.store)
    assert audit.record(services.store, services.settings, demo, actor_kind="customer", actor_id="x",
                        action="order.lookup", resource_kind="order", resource_id="1001") is None  # not audited
    clinic = demo.model_copy(update={"hipaa": True})
    clinic = type(demo).model_validate(clinic.model_dump())
    assert clinic.pii_tokenization == "always" and clinic.require_chat_key and clinic.audit
    audit.record(services.store, services.settings, clinic, actor_kind="customer", actor_id="marie@example.com",
                 action="order.lookup", resource_kind="order", resource_id="1001", outcome="found", via="chat")
    records = audit.list_records(services.store, "demo")
    assert len(records) == 1
    text = json.dumps(records)
    assert "marie@example.com" not in text and "1001" not in text.replace(records[0]["at"], "")
    assert records[0]["action"] == "order.lookup" and records[0]["resource"]["kind"] == "order"
    assert records[0]["resource"]["ref"] == audit.reference(services.settings, "demo", "1001")
    assert audit.reference(services.settings, "northwind-tea", "1001") != records[0]["resource"]["ref"]
    assert audit.list_records(services.store, "northwind-tea") == []


def test_pii_vault_access_is_audited_for_hipaa_tenants(services, tmp_path):
    from core import audit
    from core.pii import KnownEntities
    from core.tenants import TENANTS_COLLECTION, TENANTS_PARTITION, get_tenant

    clinic = get_tenant("northwind-tea", services.store).model_copy(update={"hipaa": True, "audit": True})
    services.store.put(TENANTS_PARTITION, TENANTS_COLLECTION, "northwind-tea", clinic.model_dump(mode="json"))
    services.settings = services.settings.model_copy(update={"DATA_DIR": tmp_path})  # the local vault's folder
    guard = services.pii_guard  # as the composition root wires it: tenant policies, vault access audited
    known = KnownEntities.from_values([("EMAIL", "grace.liu@example.com")])
    text, session = guard.protect("northwind-tea", "conv-audit-1", "Email grace.liu@example.com please", known)
    guard.flush(session)
    actions = [r["action"] for r in audit.list_records(services.store, "northwind-tea")]
    assert "pii_vault.read" in actions and "pii_vault.write" in actions
    assert "grace.liu" not in json.dumps(audit.list_records(services.store, "northwind-tea"))
    guard.protect("demo", "conv-audit-2", "hello", None)  # the demo shop is not audited
    assert audit.list_records(services.store, "demo") == []
