"""Company-news feed poll: a tenant's RSS/Atom feed (``feedparser``), a local file by default or an http(s) URL;
items not seen before become ``company.news.published`` events."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import feedparser
import httpx

from core.config import REPO_ROOT
from core.stores.ports import ConcurrencyError, DocumentStore

SEEN = "news-seen"


def feed_location(template: str, tenant_id: str, tenant_integrations: dict[str, str] | None = None) -> str:
    return (tenant_integrations or {}).get("news_feed") or template.replace("{tenant}", tenant_id)


def read_feed(location: str, timeout: float = 10.0) -> list[dict[str, Any]]:
    """Entries as dicts (guid, title, link, summary, published); [] when a local file does not exist."""
    if location.startswith(("http://", "https://")):
        response = httpx.get(location, timeout=timeout, follow_redirects=True)
        response.raise_for_status()
        raw = response.content
    else:
        path = Path(location.removeprefix("file:"))
        path = path if path.is_absolute() else REPO_ROOT / path
        if not path.is_file():
            return []
        raw = path.read_bytes()
    parsed = feedparser.parse(raw)
    entries = []
    for entry in parsed.entries:
        title = str(entry.get("title") or "").strip()
        if not title:
            continue
        guid = str(entry.get("id") or entry.get("link") or title)
        entries.append({"guid": guid, "title": title, "link": entry.get("link"),
                        "summary": str(entry.get("summary") or "")[:1000] or None,
                        "published": entry.get("published") or entry.get("updated")})
    return entries


def unseen(store: DocumentStore, tenant_id: str, entries: list[dict[str, Any]]) -> list[tuple[str, dict]]:
    """(key, entry) for entries never seen for this tenant, claimed atomically (two polls never both publish)."""
    out = []
    for entry in entries:
        key = hashlib.sha256(entry["guid"].encode()).hexdigest()[:24]
        try:
            store.put(tenant_id, SEEN, key, {"guid": entry["guid"]}, if_none_match=True, ttl_seconds=400 * 86_400)
        except ConcurrencyError:
            continue
        out.append((key, entry))
    return out
