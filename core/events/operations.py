"""What operators manage per tenant: time-limited promotions, product/analytics sync schedules and company
announcements that the response agent mentions once per conversation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Literal

from croniter import croniter
from pydantic import BaseModel, Field, field_validator, model_validator

from core.stores.ports import ConcurrencyError, DocumentStore

PROMOTIONS = "promotions"
ANNOUNCEMENTS = "announcements"
SCHEDULES = "sync-schedules"
NOTICES_SEEN = "notices-seen"


def now_utc() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class PromotionIn(BaseModel):
    model_config = {"extra": "forbid"}
    title: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=1000)
    code: str | None = Field(default=None, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")
    discount_percent: float | None = Field(default=None, gt=0, le=100)
    starts_at: datetime
    ends_at: datetime

    @model_validator(mode="after")
    def _window(self) -> PromotionIn:
        self.starts_at, self.ends_at = _aware(self.starts_at), _aware(self.ends_at)
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class Promotion(BaseModel):
    id: str
    title: str
    description: str = ""
    code: str | None = None
    discount_percent: float | None = None
    starts_at: str
    ends_at: str
    status: Literal["scheduled", "active", "ended", "cancelled"] = "scheduled"
    created_at: str


def create_promotion(store: DocumentStore, tenant_id: str, data: PromotionIn) -> Promotion:
    promo = Promotion(id=f"promo-{uuid.uuid4().hex[:12]}", title=data.title, description=data.description,
                      code=data.code, discount_percent=data.discount_percent, starts_at=_iso(data.starts_at),
                      ends_at=_iso(data.ends_at), created_at=_iso(now_utc()))
    store.put(tenant_id, PROMOTIONS, promo.id, promo.model_dump(mode="json"))
    return promo


def list_promotions(store: DocumentStore, tenant_id: str) -> list[Promotion]:
    return sorted((Promotion.model_validate(d.body) for d in store.list(tenant_id, PROMOTIONS, limit=10_000)),
                  key=lambda p: p.starts_at)


def set_promotion_status(store: DocumentStore, tenant_id: str, promotion_id: str, status: str,
                         only_from: tuple[str, ...] = ()) -> Promotion | None:
    for _ in range(10):
        stored = store.get(tenant_id, PROMOTIONS, promotion_id)
        if stored is None:
            return None
        promo = Promotion.model_validate(stored.body)
        if only_from and promo.status not in only_from:
            return promo
        promo.status = status  # type: ignore[assignment]
        try:
            store.put(tenant_id, PROMOTIONS, promotion_id, promo.model_dump(mode="json"), if_match=stored.etag)
            return promo
        except ConcurrencyError:
            continue
    raise ConcurrencyError(f"promotion {promotion_id} keeps changing")


def promotion_transitions(store: DocumentStore, tenant_id: str, now: datetime) -> list[tuple[Promotion, str]]:
    """(promotion, "started" | "ended") for each window edge that has passed and not been acted on yet."""
    out = []
    stamp = _iso(now)
    for promo in list_promotions(store, tenant_id):
        if promo.status == "scheduled" and promo.starts_at <= stamp < promo.ends_at:
            out.append((promo, "started"))
        elif promo.status in ("scheduled", "active") and promo.ends_at <= stamp:
            out.append((promo, "ended"))
    return out


# Announcements ----------------------------------------------------------------------------------------------
class AnnouncementIn(BaseModel):
    model_config = {"extra": "forbid"}
    text: dict[str, str] = Field(description="Text per language, e.g. {\"en\": \"…\", \"fr\": \"…\"}")
    expires_at: datetime | None = None
    starts_at: datetime | None = None

    @field_validator("text")
    @classmethod
    def _texts(cls, value: dict[str, str]) -> dict[str, str]:
        if not value or any(k not in ("en", "fr", "es") or not v.strip() or len(v) > 500 for k, v in value.items()):
            raise ValueError("give 1-500 characters per language, languages en / fr / es")
        return {k: v.strip() for k, v in value.items()}


class Announcement(BaseModel):
    id: str
    text: dict[str, str]
    starts_at: str
    expires_at: str | None = None
    source: str = "operator"  # operator | promotion | news
    created_at: str


def publish_announcement(store: DocumentStore, tenant_id: str, data: AnnouncementIn, *, source: str = "operator",
                         announcement_id: str | None = None) -> Announcement:
    now = now_utc()
    item = Announcement(id=announcement_id or f"ann-{uuid.uuid4().hex[:12]}", text=data.text,
                        starts_at=_iso(_aware(data.starts_at) if data.starts_at else now),
                        expires_at=_iso(_aware(data.expires_at)) if data.expires_at else None, source=source,
                        created_at=_iso(now))
    store.put(tenant_id, ANNOUNCEMENTS, item.id, item.model_dump(mode="json"))
    return item


def list_announcements(store: DocumentStore, tenant_id: str) -> list[Announcement]:
    return sorted((Announcement.model_validate(d.body) for d in store.list(tenant_id, ANNOUNCEMENTS, limit=10_000)),
                  key=lambda a: a.starts_at, reverse=True)


def withdraw_announcement(store: DocumentStore, tenant_id: str, announcement_id: str) -> bool:
    return store.delete(tenant_id, ANNOUNCEMENTS, announcement_id)


def active_announcements(store: DocumentStore, tenant_id: str, now: datetime | None = None) -> list[Announcement]:
    stamp = _iso(now or now_utc())
    return [a for a in list_announcements(store, tenant_id)
            if a.starts_at <= stamp and (a.expires_at is None or stamp < a.expires_at)]


def mention_for(store: DocumentStore, tenant_id: str, conversation_id: str, language: str) -> str | None:
    """The newest active announcement this conversation has not been told yet, in its language (or the
    announcement's first language); remembered so each conversation hears it once."""
    active = active_announcements(store, tenant_id)
    if not active:
        return None
    seen_doc = store.get(tenant_id, NOTICES_SEEN, conversation_id)
    seen = set(seen_doc.body.get("ids", [])) if seen_doc else set()
    for item in active:
        if item.id in seen:
            continue
        text = item.text.get(language) or next(iter(item.text.values()))
        store.put(tenant_id, NOTICES_SEEN, conversation_id, {"ids": sorted(seen | {item.id})},
                  ttl_seconds=90 * 86_400)
        return text
    return None


# Sync schedules ---------------------------------------------------------------------------------------------
SYNC_KINDS = ("products", "analytics")


def _valid_ncrontab(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value.split()) != 6 or not croniter.is_valid(value, second_at_beginning=True):
        raise ValueError("NCRONTAB needs 6 valid fields, seconds first (e.g. '0 0 */6 * * *')")
    return value


class SyncSchedulesIn(BaseModel):
    model_config = {"extra": "forbid"}
    products: str | None = None
    analytics: str | None = None

    _check = field_validator("products", "analytics")(lambda cls, v: _valid_ncrontab(v))


def get_sync_schedules(store: DocumentStore, tenant_id: str, defaults: dict[str, str]) -> dict:
    stored = store.get(tenant_id, SCHEDULES, "sync")
    body = stored.body if stored else {}
    return {kind: {"schedule": body.get(kind) or defaults[kind], "custom": bool(body.get(kind)),
                   "last_run": (body.get("last_run") or {}).get(kind)} for kind in SYNC_KINDS}


def set_sync_schedules(store: DocumentStore, tenant_id: str, data: SyncSchedulesIn, defaults: dict[str, str]) -> dict:
    for _ in range(10):
        stored = store.get(tenant_id, SCHEDULES, "sync")
        body = dict(stored.body) if stored else {"last_run": {}}
        for kind in SYNC_KINDS:
            value = getattr(data, kind)
            if value is not None:
                body[kind] = value
                body.setdefault("last_run", {}).setdefault(kind, _iso(now_utc()))  # next slot counts from now
        try:
            if stored:
                store.put(tenant_id, SCHEDULES, "sync", body, if_match=stored.etag)
            else:
                store.put(tenant_id, SCHEDULES, "sync", body, if_none_match=True)
            return get_sync_schedules(store, tenant_id, defaults)
        except ConcurrencyError:
            continue
    raise ConcurrencyError("sync schedules keep changing")


def due_syncs(store: DocumentStore, tenant_id: str, defaults: dict[str, str], now: datetime) -> list[tuple[str, str]]:
    """(kind, slot) for each sync whose schedule had a slot since its last run; the run is recorded (claimed)
    with the document's ETag so two timer instances never both run it."""
    due = []
    for _ in range(10):
        stored = store.get(tenant_id, SCHEDULES, "sync")
        body = dict(stored.body) if stored else {"last_run": {}}
        last_run = dict(body.get("last_run") or {})
        due = []
        for kind in SYNC_KINDS:
            schedule = body.get(kind) or defaults[kind]
            previous = croniter(schedule, now, ret_type=datetime, second_at_beginning=True).get_prev(datetime)
            last = last_run.get(kind)
            if last is None or _iso(previous) > last:
                due.append((kind, _iso(previous)))
                last_run[kind] = _iso(now)
        if not due:
            return []
        body["last_run"] = last_run
        try:
            if stored:
                store.put(tenant_id, SCHEDULES, "sync", body, if_match=stored.etag)
            else:
                store.put(tenant_id, SCHEDULES, "sync", body, if_none_match=True)
            return due
        except ConcurrencyError:
            continue
    return due
