"""Tenant registry and onboarding: ``import_tenant(tenant_id, folder, store)`` turns a shop's files into its data
(``python -m core.tenants`` is its command line).

A tenant folder holds (all optional but at least one knowledge document or products.json):
- ``tenant.json`` — name, languages, currency, escalation thresholds, retention;
- Markdown / JSON / text knowledge documents anywhere below it (``README.md`` is skipped);
- Shopify Admin REST exports ``products.json``, ``orders.json``, ``customers.json``.

An import answers a report (counts and ``warnings``: what was imported but will not serve customers well); a dry
run validates and reports without writing. ``core.tenants.onboarding`` reads a folder from a zip or blobs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from core.models import TENANT_ID_PATTERN
from core.rag.documents import DocumentError, iter_knowledge_files, parse_file, product_document
from core.rag.ingest import index_imported_tenant
from core.rag.retrieval import KB_COLLECTION, KB_VERSION_ID, META_COLLECTION, KnowledgeSearch
from core.stores.ports import DocumentStore

TENANTS_PARTITION = "_platform"
TENANTS_COLLECTION = "tenants"


class EscalationPolicy(BaseModel):
    refund_auto_approve_limit: float = 50.0
    human_handoff_timeout_minutes: int = 30


class ActionPolicy(BaseModel):
    """What the desk may do to an order on the customer's word (``"actions"`` in tenant.json)."""

    enabled: bool = True
    return_window_days: int = Field(default=30, ge=0, le=3650)  # from delivery (else from the order date)
    return_instructions: str | None = None  # where and how to send items back, in the shop's words


class TenantConfig(BaseModel):
    id: str = Field(pattern=TENANT_ID_PATTERN)
    name: str
    languages: list[str] = ["en"]
    default_language: str = "en"
    currency: str = "USD"
    timezone: str = "UTC"
    support_email: str | None = None
    shop_url: str | None = None
    brand_voice: str | None = None
    escalation: EscalationPolicy = EscalationPolicy()
    actions: ActionPolicy = ActionPolicy()
    retention_days: int = 365
    # Integration choice and non-secret ids, e.g. {"shop_data": "shopify", "shopify_domain": "x.myshopify.com"}
    integrations: dict[str, str] = {}
    # "third_party": tokenize PII only for providers outside the perimeter; "always": also for Azure OpenAI (HIPAA).
    pii_tokenization: Literal["third_party", "always"] = "third_party"
    # HIPAA tenant: PII always tokenized (even for Azure OpenAI), data access audited, chat key required.
    hipaa: bool = False
    audit: bool = False  # audit data access without being a HIPAA tenant
    # Public widget keys (X-Tenant-Key) of this shop; several allow rotation. Also from CHAT_TENANT_KEYS.
    widget_keys: list[str] = []
    require_chat_key: bool = False  # refuse chat without a widget key or session token
    # What the shop means to spend on language models per day (USD); the console charts the cost against it.
    daily_llm_budget: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _hipaa_policy(self) -> TenantConfig:
        if self.hipaa:
            self.pii_tokenization, self.audit, self.require_chat_key = "always", True, True
        return self


class ImportReport(BaseModel):
    tenant_id: str
    documents: int
    products: int
    orders: int
    customers: int
    removed: int
    languages: dict[str, int]
    warnings: list[str] = []
    dry_run: bool = False


class TenantImportError(ValueError):
    """The folder cannot be imported; the message says which file and why, ``field`` names it (a file name, or
    ``tenant.json.<field>``)."""

    def __init__(self, message: str, field: str = "body"):
        super().__init__(message)
        self.field = field


def _load_export(path: Path, key: str) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        detail = f"{exc.msg} at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
        raise TenantImportError(f"{path.name}: invalid JSON ({detail})", path.name) from exc
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise TenantImportError(f"{path.name}: expected a top-level {key!r} list (Shopify Admin REST export)",
                                path.name)
    seen: set[str] = set()
    for index, item in enumerate(items):
        if not isinstance(item, dict) or item.get("id") in (None, ""):
            raise TenantImportError(f"{path.name}: {key}[{index}] must be an object with an 'id'", path.name)
        if key == "orders" and not (item.get("order_number") or item.get("name")):
            raise TenantImportError(f"{path.name}: orders[{index}] has no order_number or name", path.name)
        if key == "products" and not isinstance(item.get("variants", []), list):
            raise TenantImportError(f"{path.name}: products[{index}].variants must be a list", path.name)
        ident = str(order_key(item) if key == "orders" else item["id"])
        if ident in seen:
            raise TenantImportError(f"{path.name}: duplicate {key[:-1]} {ident}", path.name)
        seen.add(ident)
    return items


def order_key(order: dict[str, Any]) -> str:
    """Orders are keyed by their customer-facing number ("1001" for "#1001")."""
    number = order.get("order_number") or re.sub(r"\D", "", str(order.get("name") or "")) or order.get("id")
    return str(number)


def _warnings(config: TenantConfig, folder: Path, documents: list, orders: list[dict[str, Any]]) -> list[str]:
    """What an import accepts but customers would notice."""
    found: list[str] = []
    pages = {d.lang.lower() for d in documents if d.category != "product"}
    for lang in config.languages:
        if lang.lower() not in pages:
            found.append(f"tenant.json declares language '{lang}' but no knowledge page is written in it: customers "
                         "writing in it are answered from the other languages' pages")
    for name, what in (("orders.json", "order questions find no orders"),
                       ("customers.json", "no customer records are imported (orders are not matched to a customer "
                                          "profile)")):
        if not (folder / name).exists():
            found.append(f"{name} is missing: {what}")
    bare = [order_key(o) for o in orders if not o.get("line_items")]
    if bare:
        shown = ", ".join(f"#{n}" for n in bare[:5]) + (", …" if len(bare) > 5 else "")
        found.append(f"orders.json: {len(bare)} order(s) without line_items ({shown}): replies about them cannot "
                     "say what was ordered")
    return found


def _config(tenant_id: str, folder: Path) -> TenantConfig:
    config_path = folder / "tenant.json"
    raw_config: dict[str, Any] = {}
    if config_path.exists():
        try:
            raw_config = json.loads(config_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            detail = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
            raise TenantImportError(f"tenant.json: invalid JSON ({detail})", "tenant.json") from exc
        if not isinstance(raw_config, dict):
            raise TenantImportError("tenant.json: expected a JSON object", "tenant.json")
    declared = raw_config.get("id")
    if declared not in (None, "", tenant_id):
        raise TenantImportError(f"tenant.json: id is {str(declared)[:64]!r} but the import is for tenant "
                                f"{tenant_id!r}; import it under its own id, or change or remove the id in tenant.json",
                                "tenant.json.id")
    raw_config.update({"id": tenant_id})
    raw_config.setdefault("name", tenant_id)
    try:
        return TenantConfig.model_validate(raw_config)
    except ValidationError as exc:
        field = ".".join(str(p) for p in exc.errors()[0]["loc"])
        raise TenantImportError(f"tenant.json: {field}: {exc.errors()[0]['msg']}", f"tenant.json.{field}") from None


def import_tenant(tenant_id: str, folder: str | Path, store: DocumentStore, *,
                  knowledge: KnowledgeSearch | None = None, index: bool = True, dry_run: bool = False,
                  progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Replace the tenant's configuration, knowledge and shop data in ``store`` with the folder's. ``knowledge``
    (the search serving ``store``) indexes the new KB at once, unless ``index`` is False; otherwise the search
    that serves ``store`` indexes it at its first search (it notices the new KB version). ``dry_run`` validates
    and reports without writing anything; ``progress(done, total)`` follows the embedding of changed documents.

    A ``tenant.json`` whose ``id`` differs from ``tenant_id`` is refused (the import would otherwise overwrite
    another shop's data or silently rename this one)."""
    folder = Path(folder)
    if not re.match(TENANT_ID_PATTERN, tenant_id):
        raise TenantImportError(f"tenant id {tenant_id!r} must be lowercase letters, digits and dashes", "tenant")
    if not folder.is_dir():
        raise TenantImportError(f"{folder} is not a folder", "folder")
    config = _config(tenant_id, folder)

    products = _load_export(folder / "products.json", "products")
    orders = _load_export(folder / "orders.json", "orders")
    customers = _load_export(folder / "customers.json", "customers")

    documents = []
    for path in iter_knowledge_files(folder):
        try:
            documents.extend(parse_file(path))
        except DocumentError as exc:
            raise TenantImportError(str(exc), path.relative_to(folder).as_posix()) from exc
    documents.extend(product_document(p, config.currency, config.shop_url) for p in products)
    if not documents:
        raise TenantImportError(f"{folder.name or folder}: no knowledge documents or products.json found", "body")
    ids = [d.id for d in documents]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise TenantImportError(f"duplicate document ids: {', '.join(duplicates[:5])}", "documents")
    languages: dict[str, int] = {}
    for doc in documents:
        languages[doc.lang] = languages.get(doc.lang, 0) + 1
    new_ids = set(ids)
    stale = [stored.id for stored in store.list(tenant_id, KB_COLLECTION, limit=1_000_000) if stored.id not in new_ids]
    report = ImportReport(tenant_id=tenant_id, documents=len(documents), products=len(products), orders=len(orders),
                          customers=len(customers), removed=len(stale), languages=languages,
                          warnings=_warnings(config, folder, documents, orders), dry_run=dry_run)
    if dry_run:
        return report

    store.put(TENANTS_PARTITION, TENANTS_COLLECTION, tenant_id, config.model_dump(mode="json"))
    for doc_id in stale:
        store.delete(tenant_id, KB_COLLECTION, doc_id)
    for doc in documents:
        store.put(tenant_id, KB_COLLECTION, doc.id, doc.model_dump(mode="json"))
    for product in products:
        store.put(tenant_id, "products", str(product["id"]), product)
    for customer in customers:
        store.put(tenant_id, "customers", str(customer["id"]), customer)
    for order in orders:
        store.put(tenant_id, "orders", order_key(order), order)
    store.put(tenant_id, META_COLLECTION, KB_VERSION_ID, {"documents": len(documents)})
    if index and knowledge is not None:
        # Chunk -> embed -> index now, so the tenant is searchable as soon as the import returns.
        index_imported_tenant(tenant_id, folder, knowledge, progress)
    return report


def get_tenant(tenant_id: str, store: DocumentStore) -> TenantConfig | None:
    stored = store.get(TENANTS_PARTITION, TENANTS_COLLECTION, tenant_id)
    return TenantConfig.model_validate(stored.body) if stored else None


def list_tenants(store: DocumentStore) -> list[TenantConfig]:
    return [TenantConfig.model_validate(d.body) for d in store.list(TENANTS_PARTITION, TENANTS_COLLECTION)]
