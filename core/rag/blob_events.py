"""Blob Storage events as Event Grid delivers them to a storage queue (one event per message, Event Grid schema),
plus the CloudEvents 1.0 schema and JSON arrays of either, so the same parser serves every subscription style.

Event Grid schema: ``{"id", "eventType": "Microsoft.Storage.BlobCreated", "subject":
"/blobServices/default/containers/<container>/blobs/<tenant>/<path>", "data": {"api", "url", "eTag", ...}}``;
CloudEvents: ``type`` / ``subject`` / ``data`` with the same values.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import unquote, urlparse

from pydantic import BaseModel

from core import jsonsafe
from core.models import TENANT_ID_PATTERN

CREATED = "Microsoft.Storage.BlobCreated"
DELETED = "Microsoft.Storage.BlobDeleted"
_SUBJECT = re.compile(r"^/blobServices/default/containers/(?P<container>[^/]+)/blobs/(?P<name>.+)$")


class BlobEventError(ValueError):
    """The message is not a blob event this function can act on (never retried into success: poison it)."""


class BlobEvent(BaseModel):
    event_id: str
    action: Literal["created", "deleted"]
    container: str
    blob_name: str  # <tenant>/<path>
    tenant_id: str
    path: str  # the name below the tenant prefix
    sequencer: str | None = None


def _one(raw: dict[str, Any]) -> BlobEvent | None:
    event_type = raw.get("eventType") or raw.get("type")
    if event_type not in (CREATED, DELETED):
        return None  # other storage events (tier changes, directories) are not ours to handle
    data = raw.get("data") or {}
    subject = raw.get("subject") or ""
    match = _SUBJECT.match(subject)
    if match:
        container, name = match.group("container"), match.group("name")
    elif data.get("url"):
        # Without a subject, the URL path is /<container>/<blob name> (percent-encoded).
        parts = unquote(urlparse(data["url"]).path).lstrip("/").split("/", 1)
        if len(parts) != 2:
            raise BlobEventError("blob event url has no container/blob path")
        container, name = parts
    else:
        raise BlobEventError("blob event has neither a blob subject nor data.url")
    tenant_id, _, path = name.partition("/")
    if not path or not re.match(TENANT_ID_PATTERN, tenant_id):
        raise BlobEventError(f"blob name must start with a tenant id prefix (<tenant>/<path>), got {name!r}")
    return BlobEvent(event_id=str(raw.get("id") or ""), action="created" if event_type == CREATED else "deleted",
                     container=container, blob_name=name, tenant_id=tenant_id, path=path,
                     sequencer=data.get("sequencer"))


def parse_blob_events(body: bytes | str) -> list[BlobEvent]:
    """Blob events in a queue message body (JSON object or array). Non-blob events are skipped."""
    try:
        payload = jsonsafe.loads(body)
    except jsonsafe.JsonRejected as exc:
        raise BlobEventError(f"message is not JSON: {exc}") from None
    items = payload if isinstance(payload, list) else [payload]
    if not all(isinstance(item, dict) for item in items):
        raise BlobEventError("expected an event object or an array of event objects")
    return [event for event in (_one(item) for item in items) if event is not None]


def blob_event(action: Literal["created", "deleted"], container: str, blob_name: str, *, event_id: str = "local",
               url_base: str = "http://127.0.0.1:10000/devstoreaccount1") -> dict[str, Any]:
    """An Event Grid ``Microsoft.Storage.Blob*`` event as Azure sends it (used by the local uploader and tests)."""
    return {
        "topic": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/"
                 "Microsoft.Storage/storageAccounts/devstoreaccount1",
        "subject": f"/blobServices/default/containers/{container}/blobs/{blob_name}",
        "eventType": CREATED if action == "created" else DELETED,
        "id": event_id,
        "data": {"api": "PutBlob" if action == "created" else "DeleteBlob", "blobType": "BlockBlob",
                 "url": f"{url_base}/{container}/{blob_name}"},
        "dataVersion": "",
        "metadataVersion": "1",
    }
