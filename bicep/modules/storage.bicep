// Storage account for the Functions host (Durable task hub: queues, tables, blobs), the agents' queues (one per
// event catalog queue plus the app's own queues from settings), and the blob containers: knowledge documents,
// exports + archives, Event Grid dead letters, Flex Consumption deployment packages. Shared keys are disabled:
// everything authenticates with Entra ID.
param location string
param tags object
param suffix string
param privateOnly bool
@description('User-assigned identity for customer-managed keys (HIPAA); empty = Microsoft-managed keys.')
param cmkIdentityId string = ''
param cmkKeyName string = ''
param keyVaultUri string

@description('ANALYTICS_QUEUE_NAME')
param analyticsQueueName string = 'analytics-events'
@description('ESCALATION_QUEUE_NAME')
param escalationQueueName string = 'escalations'
@description('KNOWLEDGE_EVENTS_QUEUE_NAME')
param knowledgeEventsQueueName string = 'knowledge-events'
@description('KNOWLEDGE_BLOB_CONTAINER')
param knowledgeContainerName string = 'knowledge'
@description('BLOB_CONTAINER (exports and conversation archives)')
param dataContainerName string = 'shopdesk-data'

// The event catalog exported from core/events/catalog.py: {"queues": [...], "subscriptions": [...]}.
var catalog = loadJsonContent('../catalog.json')
var queueNames = union(catalog.queues, [
  analyticsQueueName
  escalationQueueName
  knowledgeEventsQueueName
])
var containerNames = [
  knowledgeContainerName
  dataContainerName
  'dead-letters'
  'deploymentpackage'
]
var useCmk = !empty(cmkIdentityId)

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: 'st${suffix}'
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: privateOnly ? 'Standard_ZRS' : 'Standard_LRS'
  }
  identity: useCmk ? {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${cmkIdentityId}': {}
    }
  } : null
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    defaultToOAuthAuthentication: true
    publicNetworkAccess: privateOnly ? 'Disabled' : 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: privateOnly ? 'Deny' : 'Allow'
    }
    encryption: useCmk ? {
      keySource: 'Microsoft.Keyvault'
      requireInfrastructureEncryption: true
      identity: {
        userAssignedIdentity: cmkIdentityId
      }
      keyvaultproperties: {
        keyname: cmkKeyName
        keyvaulturi: keyVaultUri
      }
      services: {
        blob: {
          enabled: true
          keyType: 'Account'
        }
        queue: {
          enabled: true
          keyType: 'Account'
        }
        table: {
          enabled: true
          keyType: 'Account'
        }
      }
    } : {
      keySource: 'Microsoft.Storage'
      services: {
        blob: {
          enabled: true
        }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for name in containerNames: {
  parent: blobService
  name: name
  properties: {
    publicAccess: 'None'
  }
}]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [for name in queueNames: {
  parent: queueService
  name: name
}]

// Durable Functions creates its task hub tables itself; the service must exist for identity-based access.
resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: account
  name: 'default'
}

// Archives move to cool storage after 30 days; dead letters are kept 7 days for replay, then deleted.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'archives-to-cool'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                '${dataContainerName}/'
              ]
            }
            actions: {
              baseBlob: {
                tierToCool: {
                  daysAfterModificationGreaterThan: 30
                }
              }
            }
          }
        }
        {
          name: 'dead-letters-expire'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                'dead-letters/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: 7
                }
              }
            }
          }
        }
      ]
    }
  }
}

output accountName string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output queueEndpoint string = account.properties.primaryEndpoints.queue
output deploymentContainerName string = 'deploymentpackage'
output queueNames array = queueNames
output analyticsQueueName string = analyticsQueueName
output escalationQueueName string = escalationQueueName
output knowledgeEventsQueueName string = knowledgeEventsQueueName
output knowledgeContainerName string = knowledgeContainerName
output dataContainerName string = dataContainerName
output deadLetterContainerName string = 'dead-letters'
