"""Azure Blob Storage adapter (azure-storage-blob; Azurite locally): blobs named ``<tenant>/<path>``."""

from __future__ import annotations

from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient, ContainerClient, ContentSettings

from .ports import BlobInfo, ConcurrencyError


class AzureBlobStore:
    def __init__(self, container: ContainerClient):
        self._container = container

    @classmethod
    def connect(cls, container: str, *, connection_string: str = "", account_url: str = "",
                credential: Any = None, create: bool = True) -> AzureBlobStore:
        if connection_string:
            service = BlobServiceClient.from_connection_string(connection_string)
        elif account_url:
            if credential is None:
                from azure.identity import DefaultAzureCredential

                credential = DefaultAzureCredential()
            service = BlobServiceClient(account_url, credential=credential)
        else:
            raise ValueError("AzureBlobStore needs a connection string or a blob account URL")
        client = service.get_container_client(container)
        if create:
            try:
                client.create_container()
            except ResourceExistsError:
                pass
        return cls(client)

    @staticmethod
    def _name(tenant_id: str, path: str) -> str:
        if not tenant_id or "/" in tenant_id:
            raise ValueError("tenant id must be a single path segment")
        return f"{tenant_id}/{path.lstrip('/')}"

    def put_bytes(self, tenant_id: str, path: str, data: bytes, *, content_type: str = "application/octet-stream",
                  metadata: dict[str, str] | None = None, overwrite: bool = True) -> str:
        blob = self._container.get_blob_client(self._name(tenant_id, path))
        try:
            result = blob.upload_blob(data, overwrite=overwrite,
                                      content_settings=ContentSettings(content_type=content_type),
                                      metadata={"tenant": tenant_id, **(metadata or {})})
        except ResourceExistsError:
            raise ConcurrencyError(f"blob {tenant_id}/{path} already exists") from None
        return str(result["etag"])

    def get_bytes(self, tenant_id: str, path: str) -> bytes | None:
        try:
            return self._container.download_blob(self._name(tenant_id, path)).readall()
        except ResourceNotFoundError:
            return None

    def list(self, tenant_id: str, prefix: str = "") -> list[BlobInfo]:
        start = self._name(tenant_id, prefix)
        cut = len(tenant_id) + 1
        return [BlobInfo(b.name[cut:], b.size, str(b.etag), dict(b.metadata or {}))
                for b in self._container.list_blobs(name_starts_with=start, include=["metadata"])]

    def delete(self, tenant_id: str, path: str) -> bool:
        try:
            self._container.delete_blob(self._name(tenant_id, path))
        except ResourceNotFoundError:
            return False
        return True
