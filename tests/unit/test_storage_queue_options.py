"""Queue clients for Azurite on loopback skip the environment's proxy settings; any other endpoint keeps them."""

from __future__ import annotations

from azure.core.pipeline.transport import AioHttpTransport

from core.stores.storage_queue import is_loopback, loopback_options, queue_service

AZURITE = ("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
           "QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;")
AZURE = ("DefaultEndpointsProtocol=https;AccountName=shopdesk;AccountKey=a2V5;EndpointSuffix=core.windows.net")


def test_loopback_endpoints_are_recognised():
    assert is_loopback("UseDevelopmentStorage=true")
    assert is_loopback(AZURITE)
    assert is_loopback(AZURITE.replace("127.0.0.1", "localhost"))
    assert not is_loopback(AZURE)
    assert not is_loopback(AZURITE.replace("127.0.0.1", "10.0.0.4"))


def test_only_loopback_clients_ignore_proxy_settings():
    assert loopback_options(AZURE) == {}
    assert loopback_options(AZURITE, AioHttpTransport)["transport"]._use_env_settings is False
    service = queue_service(AZURITE)
    assert service._pipeline._transport._use_env_settings is False
    assert queue_service(AZURE)._pipeline._transport._use_env_settings is True
