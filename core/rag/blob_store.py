"""The knowledge blob container (azure-storage-blob; Azurite locally) and the local stand-in for Event Grid.

In Azure, an Event Grid subscription on the storage account sends ``Microsoft.Storage.BlobCreated`` /
``BlobDeleted`` events for this container to the ``KNOWLEDGE_EVENTS_QUEUE_NAME`` storage queue. Locally nothing
emits storage events, so ``notify`` enqueues the same event JSON (base64, as the Functions host expects).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Literal

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient, ContentSettings
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from core.stores.storage_queue import notify_enqueued

from .blob_events import blob_event

_CONTENT_TYPES = {".md": "text/markdown", ".markdown": "text/markdown", ".txt": "text/plain",
                  ".json": "application/json"}


class KnowledgeBlobs:
    def __init__(self, service: BlobServiceClient, container: str, queue: QueueClient | None = None):
        self._service = service
        self.container = container
        self._container = service.get_container_client(container)
        self._queue = queue

    @classmethod
    def from_settings(cls, settings) -> KnowledgeBlobs:
        if settings.AzureWebJobsStorage:
            service = BlobServiceClient.from_connection_string(settings.AzureWebJobsStorage)
            queue = QueueClient.from_connection_string(settings.AzureWebJobsStorage,
                                                       settings.KNOWLEDGE_EVENTS_QUEUE_NAME,
                                                       message_encode_policy=TextBase64EncodePolicy())
        else:
            from azure.identity import DefaultAzureCredential

            if not settings.BLOB_ACCOUNT_URL:
                raise RuntimeError("set AzureWebJobsStorage or BLOB_ACCOUNT_URL to read knowledge blobs")
            service = BlobServiceClient(settings.BLOB_ACCOUNT_URL, credential=DefaultAzureCredential())
            queue = None  # in Azure, Event Grid delivers the events
        return cls(service, settings.KNOWLEDGE_BLOB_CONTAINER, queue)

    def read(self, container: str, name: str) -> bytes | None:
        """The blob's current content, or None when it no longer exists."""
        try:
            return self._service.get_blob_client(container, name).download_blob().readall()
        except ResourceNotFoundError:
            return None

    def read_prefix(self, prefix: str) -> Iterator[tuple[str, bytes]]:
        """(name, content) of every blob of the knowledge container whose name starts with ``prefix``."""
        try:
            for item in self._container.list_blobs(name_starts_with=prefix):
                data = self.read(self.container, item.name)
                if data is not None:
                    yield item.name, data
        except ResourceNotFoundError:  # no container yet: no blobs
            return

    def upload(self, name: str, data: bytes) -> None:
        try:
            self._container.create_container()
        except ResourceExistsError:
            pass
        suffix = name[name.rfind("."):].lower() if "." in name else ""
        self._container.upload_blob(name, data, overwrite=True, content_settings=ContentSettings(
            content_type=_CONTENT_TYPES.get(suffix, "application/octet-stream")))

    def delete(self, name: str) -> None:
        try:
            self._container.delete_blob(name)
        except ResourceNotFoundError:
            pass

    def notify(self, action: Literal["created", "deleted"], name: str) -> dict[str, Any]:
        """Enqueue the Event Grid event Azure would send for this change (local development)."""
        if self._queue is None:
            raise RuntimeError("no local event queue: in Azure, Event Grid delivers blob events")
        event = blob_event(action, self.container, name, url_base=self._service.url.rstrip("/"))
        try:
            self._queue.create_queue()
        except ResourceExistsError:
            pass
        self._queue.send_message(json.dumps(event))
        notify_enqueued(self._queue.queue_name)
        return event
