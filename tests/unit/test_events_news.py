"""Company-news feed poll: the tenant's local feed file becomes events once, and each becomes an announcement."""

from __future__ import annotations

from core.events import news, schedules


def test_demo_feed_is_read_and_published_once(services, monkeypatch):
    published = []
    monkeypatch.setattr(schedules, "_publish", lambda events: published.extend(events) or len(events))
    assert schedules.news_poll() == 2  # the demo shop's two items; northwind-tea has no feed file
    assert {e.type for e in published} == {"company.news.published"}
    assert all(e.subject.startswith("tenants/demo/") for e in published)
    assert "Holiday hours" in " ".join(e.data["title"] for e in published)
    assert schedules.news_poll() == 0  # items already seen are not published again


def test_missing_feed_file_reads_as_empty():
    assert news.read_feed("knowledge/tenants/no-such-tenant/news.xml") == []
