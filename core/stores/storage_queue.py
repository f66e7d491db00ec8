"""Azure Storage queue adapter (Azurite locally): base64 messages, as the Functions queue trigger expects."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

from azure.core.exceptions import ResourceExistsError
from azure.core.pipeline.transport import RequestsTransport
from azure.storage.queue import QueueClient, QueueServiceClient, TextBase64EncodePolicy

_LOOPBACK = re.compile(r"(?i)UseDevelopmentStorage=true|QueueEndpoint=https?://(127\.0\.0\.1|localhost)[:/]")


def is_loopback(connection_string: str) -> bool:
    """Azurite on this machine (the development storage shortcut or a loopback queue endpoint)."""
    return bool(_LOOPBACK.search(connection_string))


def loopback_options(connection_string: str, transport_type: Any = RequestsTransport) -> dict[str, Any]:
    """Client options for Azurite on loopback: no proxy settings from the environment. A loopback endpoint never
    goes through a proxy, and reading them scans the whole environment on every request (about 2 ms a send with
    the settings exported by ``make run``)."""
    return {"transport": transport_type(use_env_settings=False)} if is_loopback(connection_string) else {}


_enqueue_listeners: list[Callable[[str], None]] = []


def on_enqueued(listener: Callable[[str], None]) -> Callable[[], None]:
    """Call ``listener(queue_name)`` after this process enqueues a message that is visible at once; returns the
    function that removes it. The local host uses it the way the Functions host uses its enqueue watcher: a queue
    trigger polls at once for messages its own app sends, instead of when its backoff next expires."""
    _enqueue_listeners.append(listener)
    return lambda: _enqueue_listeners.remove(listener) if listener in _enqueue_listeners else None


def notify_enqueued(queue_name: str) -> None:
    for listener in list(_enqueue_listeners):
        listener(queue_name)


def queue_service(connection_string: str = "", queue_service_uri: str = "") -> QueueServiceClient:
    """A connection string (Azurite, keys) or, in Azure, the identity-based ``__queueServiceUri`` setting."""
    if connection_string:
        return QueueServiceClient.from_connection_string(connection_string, **loopback_options(connection_string))
    if queue_service_uri:
        from azure.identity import DefaultAzureCredential

        return QueueServiceClient(queue_service_uri, credential=DefaultAzureCredential())
    raise ValueError("storage queues need AzureWebJobsStorage or AzureWebJobsStorage__queueServiceUri")


class StorageQueue:
    def __init__(self, connection_string: str = "", queue_service_uri: str = ""):
        self._service = queue_service(connection_string, queue_service_uri)
        self._clients: dict[str, QueueClient] = {}
        self._lock = threading.Lock()

    def _client(self, queue_name: str) -> QueueClient:
        with self._lock:
            client = self._clients.get(queue_name)
            if client is None:
                client = self._service.get_queue_client(queue_name, message_encode_policy=TextBase64EncodePolicy())
                try:
                    client.create_queue()
                except ResourceExistsError:
                    pass
                self._clients[queue_name] = client
            return client

    def send(self, queue_name: str, message: str) -> None:
        self._client(queue_name).send_message(message)
        notify_enqueued(queue_name)
