"""A stand-in for the Zendesk Support tickets API subset the Zendesk adapter uses; tickets live in memory.

Routes under ``/{subdomain}/api/v2/``: ``tickets.json`` (GET lists, ``external_id`` filters; POST creates: 201 with
``ticket`` and ``audit``), ``tickets/{id}.json`` (GET, PUT: status, priority, assignee_id, a comment), and
``tickets/{id}/comments.json`` (cursor pagination: ``page[size]``, ``page[after]``, ``meta.has_more``,
``links.next``). As Zendesk does: API-token basic auth ``{email}/token:{token}`` is required (401 otherwise), a
body that is not ``{"ticket": {...}}`` with a subject or comment is a 422 ``RecordInvalid``. ``Desk.agent_comment``
is what a support agent typing a public reply does."""

from __future__ import annotations

import base64
import itertools
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

PRIORITIES = ("low", "normal", "high", "urgent")
STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
_ids = itertools.count(35436)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Desk:
    """One Zendesk account: its API user and token, and its tickets (id -> ticket, with ``comments``)."""

    email: str
    token: str
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_comment(self, ticket_id: int, body: str, public: bool, author_id: int) -> dict[str, Any]:
        comment = {"id": next(_ids), "type": "Comment", "author_id": author_id, "body": body, "plain_body": body,
                   "public": public, "attachments": [], "created_at": _now()}
        self.comments.setdefault(ticket_id, []).append(comment)
        return comment

    def agent_comment(self, ticket_id: int, body: str, *, author_id: int = 235323) -> dict[str, Any]:
        """A support agent's public reply on the ticket."""
        with self.lock:
            self.tickets[ticket_id]["status"] = "open"
            return self.add_comment(ticket_id, body, True, author_id)


def _error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "description": description}, status)


def _authorized(request: Request, desk: Desk) -> bool:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, _, secret = base64.b64decode(value).decode().partition(":")
    except ValueError:
        return False
    return user == f"{desk.email}/token" and secret == desk.token


def app(desks: dict[str, Desk], *, base_url: str = "") -> Starlette:
    """The stand-in for the accounts in ``desks`` (keyed by subdomain); ``base_url`` prefixes the ``url`` fields."""

    def desk_of(request: Request) -> Desk | JSONResponse:
        desk = desks.get(request.path_params["subdomain"])
        if desk is None:
            return _error(404, "InvalidEndpoint", "Not found")
        if not _authorized(request, desk):
            return JSONResponse({"error": "Couldn't authenticate you"}, 401)
        return desk

    def ticket_url(request: Request, ticket_id: int) -> str:
        return f"{base_url or str(request.base_url).rstrip('/')}/{request.path_params['subdomain']}/api/v2/" \
               f"tickets/{ticket_id}.json"

    async def tickets(request: Request) -> JSONResponse:
        desk = desk_of(request)
        if isinstance(desk, JSONResponse):
            return desk
        if request.method == "GET":
            found = list(desk.tickets.values())
            if "external_id" in request.query_params:
                found = [t for t in found if t.get("external_id") == request.query_params["external_id"]]
            return JSONResponse({"tickets": found, "count": len(found), "next_page": None, "previous_page": None})
        try:
            body = (await request.json())["ticket"]
            subject = str(body.get("subject") or "")
            comment = body.get("comment") or {}
            assert subject or comment.get("body")
        except (ValueError, KeyError, TypeError, AttributeError, AssertionError):
            return _error(422, "RecordInvalid", "Record validation errors")
        with desk.lock:
            ticket_id = next(_ids)
            requester_id = next(_ids)
            desk.tickets[ticket_id] = {
                "url": ticket_url(request, ticket_id), "id": ticket_id, "external_id": body.get("external_id"),
                "via": {"channel": "api"}, "created_at": _now(), "updated_at": _now(), "type": None,
                "subject": subject, "description": str(comment.get("body") or ""),
                "priority": body.get("priority") if body.get("priority") in PRIORITIES else None, "status": "new",
                "requester_id": requester_id, "submitter_id": requester_id, "assignee_id": None, "group_id": None,
                "tags": list(body.get("tags") or []), "requester": body.get("requester"),
            }
            if comment.get("body"):
                desk.add_comment(ticket_id, str(comment["body"]), bool(comment.get("public", True)), requester_id)
            created = dict(desk.tickets[ticket_id])
        created.pop("requester")
        return JSONResponse({"ticket": created, "audit": {"id": next(_ids), "ticket_id": ticket_id,
                                                          "created_at": created["created_at"], "events": []}}, 201)

    def found_ticket(request: Request, desk: Desk) -> dict[str, Any] | None:
        try:
            return desk.tickets.get(int(request.path_params["ticket_id"]))
        except ValueError:
            return None

    async def ticket(request: Request) -> JSONResponse:
        desk = desk_of(request)
        if isinstance(desk, JSONResponse):
            return desk
        current = found_ticket(request, desk)
        if current is None:
            return _error(404, "RecordNotFound", "Not found")
        if request.method == "PUT":
            try:
                changes = (await request.json())["ticket"]
                assert isinstance(changes, dict)
                assert changes.get("status") in (None, *STATUSES)
            except (ValueError, KeyError, TypeError, AssertionError):
                return _error(422, "RecordInvalid", "Record validation errors")
            with desk.lock:
                for key in ("status", "priority", "assignee_id"):
                    if changes.get(key) is not None:
                        current[key] = changes[key]
                comment = changes.get("comment") or {}
                if comment.get("body"):
                    desk.add_comment(current["id"], str(comment["body"]), bool(comment.get("public", True)),
                                     current["submitter_id"])
                current["updated_at"] = _now()
        shown = {k: v for k, v in current.items() if k != "requester"}
        return JSONResponse({"ticket": shown})

    async def comments(request: Request) -> JSONResponse:
        desk = desk_of(request)
        if isinstance(desk, JSONResponse):
            return desk
        current = found_ticket(request, desk)
        if current is None:
            return _error(404, "RecordNotFound", "Not found")
        try:
            size = min(max(int(request.query_params.get("page[size]", "100")), 1), 100)
            after = int(request.query_params.get("page[after]", "0"))
        except ValueError:
            return _error(400, "InvalidPaginationParameter", "page[size] and page[after] are integers")
        items = desk.comments.get(current["id"], [])
        chunk = items[after:after + size]
        has_more = after + size < len(items)
        following = str(request.url.include_query_params(**{"page[size]": size, "page[after]": after + size}))
        return JSONResponse({"comments": chunk, "meta": {"has_more": has_more, "after_cursor": str(after + size)},
                             "links": {"next": following if has_more else None}})

    base = "/{subdomain}/api/v2"
    return Starlette(routes=[
        Route(f"{base}/tickets.json", tickets, methods=["GET", "POST"]),
        Route(f"{base}/tickets/{{ticket_id}}.json", ticket, methods=["GET", "PUT"]),
        Route(f"{base}/tickets/{{ticket_id}}/comments.json", comments),
    ])
