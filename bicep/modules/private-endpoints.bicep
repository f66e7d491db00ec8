// Private endpoints + private DNS zones for every data-plane service of a private (HIPAA) tenant.
param location string
param tags object
param subnetId string
param vnetId string
param storageAccountName string
param cosmosAccountName string
param keyVaultName string
param openAiAccountName string
param eventGridTopicName string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}
resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' existing = {
  name: cosmosAccountName
}
resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}
resource openAi 'Microsoft.CognitiveServices/accounts@2024-10-01' existing = {
  name: openAiAccountName
}
resource topic 'Microsoft.EventGrid/topics@2025-02-15' existing = {
  name: eventGridTopicName
}

var endpoints = [
  {
    name: 'blob'
    id: storage.id
    group: 'blob'
    zone: 'privatelink.blob.${environment().suffixes.storage}'
  }
  {
    name: 'queue'
    id: storage.id
    group: 'queue'
    zone: 'privatelink.queue.${environment().suffixes.storage}'
  }
  {
    name: 'table'
    id: storage.id
    group: 'table'
    zone: 'privatelink.table.${environment().suffixes.storage}'
  }
  {
    name: 'cosmos'
    id: cosmos.id
    group: 'Sql'
    zone: 'privatelink.documents.azure.com'
  }
  {
    name: 'vault'
    id: vault.id
    group: 'vault'
    zone: 'privatelink.vaultcore.azure.net'
  }
  {
    name: 'openai'
    id: openAi.id
    group: 'account'
    zone: 'privatelink.openai.azure.com'
  }
  {
    name: 'eventgrid'
    id: topic.id
    group: 'topic'
    zone: 'privatelink.eventgrid.azure.net'
  }
]

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [for endpoint in endpoints: {
  name: endpoint.zone
  location: 'global'
  tags: tags
}]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [for (endpoint, i) in endpoints: {
  parent: zones[i]
  name: 'link-${endpoint.name}'
  location: 'global'
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: vnetId
    }
  }
}]

resource privateEndpoints 'Microsoft.Network/privateEndpoints@2024-05-01' = [for (endpoint, i) in endpoints: {
  name: 'pe-${endpoint.name}'
  location: location
  tags: tags
  properties: {
    subnet: {
      id: subnetId
    }
    privateLinkServiceConnections: [
      {
        name: endpoint.name
        properties: {
          privateLinkServiceId: endpoint.id
          groupIds: [
            endpoint.group
          ]
        }
      }
    ]
  }
}]

resource zoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = [for (endpoint, i) in endpoints: {
  parent: privateEndpoints[i]
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: endpoint.name
        properties: {
          privateDnsZoneId: zones[i].id
        }
      }
    ]
  }
}]
