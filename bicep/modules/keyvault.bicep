// Key Vault in RBAC mode (no access policies), soft delete 90 days, purge protection on. Holds vendor secrets
// (referenced from app settings), the RSA key that wraps the PII vault's data keys, and for HIPAA tenants the
// customer-managed keys of storage and Cosmos DB (used through a user-assigned identity).
param location string
param tags object
param suffix string
param privateOnly bool
param customerManagedKeys bool
@secure()
@description('HMAC key of customer session tokens (SESSION_TOKEN_KEY), supplied at deployment, never in a file.')
param sessionTokenKey string
@secure()
@description('HMAC key that tokenizes customer ids in exports (EXPORT_TOKEN_KEY).')
param exportTokenKey string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: 'kv-${suffix}'
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: customerManagedKeys ? 'premium' : 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: privateOnly ? 'Disabled' : 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: privateOnly ? 'Deny' : 'Allow'
    }
  }
}

resource sessionTokenSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'session-token-key'
  properties: {
    value: sessionTokenKey
    contentType: 'hmac-sha256 key'
  }
}

resource exportTokenSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'export-token-key'
  properties: {
    value: exportTokenKey
    contentType: 'hmac-sha256 key'
  }
}

// Wraps the per-conversation data keys of the Cosmos PII vault (PII_KEYVAULT_KEY_ID, RSA-OAEP-256).
resource piiWrapKey 'Microsoft.KeyVault/vaults/keys@2023-07-01' = {
  parent: vault
  name: 'pii-wrap'
  properties: {
    kty: customerManagedKeys ? 'RSA-HSM' : 'RSA'
    keySize: 3072
    keyOps: [
      'wrapKey'
      'unwrapKey'
    ]
    rotationPolicy: {
      lifetimeActions: [
        {
          action: {
            type: 'rotate'
          }
          trigger: {
            timeAfterCreate: 'P1Y'
          }
        }
      ]
    }
  }
}

resource cmkIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = if (customerManagedKeys) {
  name: 'id-cmk-${suffix}'
  location: location
  tags: tags
}

resource storageCmk 'Microsoft.KeyVault/vaults/keys@2023-07-01' = if (customerManagedKeys) {
  parent: vault
  name: 'cmk-storage'
  properties: {
    kty: 'RSA-HSM'
    keySize: 3072
    keyOps: [
      'wrapKey'
      'unwrapKey'
    ]
  }
}

resource cosmosCmk 'Microsoft.KeyVault/vaults/keys@2023-07-01' = if (customerManagedKeys) {
  parent: vault
  name: 'cmk-cosmos'
  properties: {
    kty: 'RSA-HSM'
    keySize: 3072
    keyOps: [
      'wrapKey'
      'unwrapKey'
    ]
  }
}

// Key Vault Crypto Service Encryption User for the identity storage and Cosmos DB encrypt with.
resource cmkRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (customerManagedKeys) {
  name: guid(vault.id, 'cmk', 'e147488a-f6f5-4113-8e2d-b22465e65bf6')
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'e147488a-f6f5-4113-8e2d-b22465e65bf6')
    principalId: customerManagedKeys ? cmkIdentity.properties.principalId : ''
    principalType: 'ServicePrincipal'
  }
}

output vaultName string = vault.name
output vaultUri string = vault.properties.vaultUri
output piiWrapKeyUri string = piiWrapKey.properties.keyUri
output cmkIdentityId string = customerManagedKeys ? cmkIdentity.id : ''
output storageCmkKeyName string = customerManagedKeys ? storageCmk.name : ''
output cosmosCmkKeyUri string = customerManagedKeys ? cosmosCmk.properties.keyUri : ''
