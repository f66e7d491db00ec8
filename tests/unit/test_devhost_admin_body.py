"""The local host's admin route (``POST /admin/functions/{name}``) answers pathological JSON with a 400 problem."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from core.devhost.http import HttpFrontEnd


@pytest.fixture
def client():
    invoked: list[tuple[str, object]] = []

    async def admin_invoke(name, data):
        invoked.append((name, data))

    with TestClient(HttpFrontEnd([], admin_invoke=admin_invoke).app, raise_server_exceptions=False) as test_client:
        test_client.invoked = invoked
        yield test_client


@pytest.mark.parametrize(("body", "reason"), [
    (b"[" * 5000 + b"]" * 5000, "nesting deeper than"),
    (b'{"input": ' + b"7" * 5000 + b"}", "digits"),
    (b'{"input": NaN}', "NaN"),
])
def test_pathological_admin_bodies_are_a_400(client, body, reason):
    response = client.post("/admin/functions/daily_summary", content=body)
    assert response.status_code == 400 and response.headers["content-type"].startswith("application/problem+json")
    assert reason in response.json()["detail"] and client.invoked == []


def test_a_plain_admin_body_still_invokes(client):
    assert client.post("/admin/functions/daily_summary", json={"input": "x"}).status_code == 202
    assert client.invoked == [("daily_summary", "x")]
