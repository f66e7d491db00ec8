"""Company-news feed poll: the tenant's local feed file becomes events once, and each becomes an announcement."""

from __future__ import annotations

import types

from core.events import news, schedules


def test_demo_feed_is_read_and_published_once(services):
    published = []
    bus = types.SimpleNamespace(publish=published.extend)
    assert schedules.news_poll(services.store, bus, services.settings) == 2  # demo's two items; none for northwind
    assert {e.type for e in published} == {"company.news.published"}
    assert all(e.subject.startswith("tenants/demo/") for e in published)
    assert "Holiday hours" in " ".join(e.data["title"] for e in published)
    assert schedules.news_poll(services.store, bus, services.settings) == 0  # seen items are not published again


def test_missing_feed_file_reads_as_empty():
    assert news.read_feed("knowledge/tenants/no-such-tenant/news.xml") == []
