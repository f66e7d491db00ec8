"""Token-map vaults behind one port: embedded encrypted SQLite (local default), Azure Key Vault, Cosmos DB with
envelope encryption. ``build_vault(settings)`` picks one from ``PII_VAULT``."""

from __future__ import annotations

from .port import MappingRecord, MappingVault, VaultError, mapping_name

__all__ = ["MappingRecord", "MappingVault", "VaultError", "build_vault", "mapping_name"]


def build_vault(settings) -> MappingVault:
    kind = str(settings.PII_VAULT)
    if kind == "local":
        from .local import LocalVault

        return LocalVault(settings.DATA_DIR / "pii-vault.sqlite", settings.DATA_DIR / "pii-vault.key")
    from azure.identity import DefaultAzureCredential

    credential = DefaultAzureCredential()
    if kind == "keyvault":
        from azure.keyvault.secrets import SecretClient

        from .keyvault import KeyVaultVault

        if not settings.PII_KEYVAULT_URL:
            raise VaultError("PII_VAULT=keyvault needs PII_KEYVAULT_URL")
        return KeyVaultVault(SecretClient(settings.PII_KEYVAULT_URL, credential))
    if kind == "cosmos":
        from azure.cosmos import CosmosClient
        from azure.keyvault.keys.crypto import CryptographyClient

        from .cosmos import CosmosEnvelopeVault

        if not (settings.PII_COSMOS_ENDPOINT and settings.PII_KEYVAULT_KEY_ID):
            raise VaultError("PII_VAULT=cosmos needs PII_COSMOS_ENDPOINT and PII_KEYVAULT_KEY_ID")
        container = (CosmosClient(settings.PII_COSMOS_ENDPOINT, credential)
                     .get_database_client(settings.PII_COSMOS_DATABASE)
                     .get_container_client(settings.PII_COSMOS_CONTAINER))
        return CosmosEnvelopeVault(container, CryptographyClient(settings.PII_KEYVAULT_KEY_ID, credential))
    raise VaultError(f"unknown PII_VAULT {kind!r}")
