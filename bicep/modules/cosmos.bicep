// Cosmos DB for NoSQL, serverless, vector search enabled, local (key) auth disabled. Containers:
// - documents: the document store (core/stores/cosmos_store.py), partition /tenantId, TTL on without a default;
// - knowledge-vectors: KB chunks + vectors; its vector embedding policy and DiskANN index are exactly
//   core.rag.cosmos_index.container_definition() (a unit test compares them);
// - pii-maps: the PII token vault (core/pii/vaults/cosmos.py), partition /tenant_id as that adapter writes it, TTL on.
param location string
param tags object
param suffix string
param privateOnly bool
@description('User-assigned identity for a customer-managed key (HIPAA); empty = service-managed keys.')
param cmkIdentityId string = ''
param cmkKeyUri string = ''
@description('COSMOS_DATABASE')
param databaseName string = 'shopdesk'
@description('COSMOS_CONTAINER')
param documentsContainerName string = 'documents'
@description('KNOWLEDGE_COSMOS_CONTAINER')
param knowledgeContainerName string = 'knowledge-vectors'
@description('PII_COSMOS_CONTAINER')
param piiMapsContainerName string = 'pii-maps'
@description('EMBEDDING_DIMENSIONS (text-embedding-3-large at 1536)')
param embeddingDimensions int = 1536

var useCmk = !empty(cmkIdentityId)

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: 'cosmos-${suffix}'
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  identity: useCmk ? {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${cmkIdentityId}': {}
    }
  } : null
  properties: {
    databaseAccountOfferType: 'Standard'
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    capabilities: [
      {
        name: 'EnableServerless'
      }
      {
        name: 'EnableNoSQLVectorSearch'
      }
    ]
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: privateOnly ? 'Disabled' : 'Enabled'
    keyVaultKeyUri: useCmk ? cmkKeyUri : null
    defaultIdentity: useCmk ? 'UserAssignedIdentity=${cmkIdentityId}' : 'FirstPartyIdentity'
    backupPolicy: {
      type: 'Continuous'
      continuousModeProperties: {
        tier: 'Continuous7Days'
      }
    }
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
  }
}

resource documents 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = {
  parent: database
  name: documentsContainerName
  properties: {
    resource: {
      id: documentsContainerName
      partitionKey: {
        paths: [
          '/tenantId'
        ]
        kind: 'Hash'
        version: 2
      }
      defaultTtl: -1
    }
  }
}

resource knowledge 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = {
  parent: database
  name: knowledgeContainerName
  properties: {
    resource: {
      id: knowledgeContainerName
      partitionKey: {
        paths: [
          '/tenantId'
        ]
        kind: 'Hash'
        version: 2
      }
      indexingPolicy: {
        indexingMode: 'consistent'
        automatic: true
        includedPaths: [
          {
            path: '/*'
          }
        ]
        excludedPaths: [
          {
            path: '/"_etag"/?'
          }
          {
            path: '/embedding/*'
          }
          {
            path: '/text/?'
          }
        ]
        vectorIndexes: [
          {
            path: '/embedding'
            type: 'diskANN'
          }
        ]
      }
      vectorEmbeddingPolicy: {
        vectorEmbeddings: [
          {
            path: '/embedding'
            dataType: 'float32'
            distanceFunction: 'cosine'
            dimensions: embeddingDimensions
          }
        ]
      }
    }
  }
}

resource piiMaps 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = {
  parent: database
  name: piiMapsContainerName
  properties: {
    resource: {
      id: piiMapsContainerName
      partitionKey: {
        paths: [
          '/tenant_id'
        ]
        kind: 'Hash'
        version: 2
      }
      defaultTtl: -1
    }
  }
}

output accountName string = account.name
output endpoint string = account.properties.documentEndpoint
output databaseName string = database.name
output documentsContainerName string = documents.name
output knowledgeContainerName string = knowledge.name
output piiMapsContainerName string = piiMaps.name
