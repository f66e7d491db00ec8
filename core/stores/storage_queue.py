"""Azure Storage queue adapter (Azurite locally): base64 messages, as the Functions queue trigger expects."""

from __future__ import annotations

import threading

from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import QueueClient, QueueServiceClient, TextBase64EncodePolicy


class StorageQueue:
    def __init__(self, connection_string: str = "", queue_service_uri: str = ""):
        if connection_string:
            self._service = QueueServiceClient.from_connection_string(connection_string)
        elif queue_service_uri:
            from azure.identity import DefaultAzureCredential

            self._service = QueueServiceClient(queue_service_uri, credential=DefaultAzureCredential())
        else:
            raise ValueError("StorageQueue needs AzureWebJobsStorage or AzureWebJobsStorage__queueServiceUri")
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
