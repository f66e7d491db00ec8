// ShopDesk: one isolated stack per tenant (its own resource group, identity, storage, Cosmos DB, Key Vault,
// Event Grid topic, Azure OpenAI, monitoring and budget). Deploy with `azd up` or
// `az deployment sub create -l <region> -f bicep/main.bicep -p bicep/tenants/<tenant>.bicepparam`.
targetScope = 'subscription'

@description('Tenant id (lowercase letters, digits, dashes): names the resource group and tags every resource.')
@minLength(2)
@maxLength(24)
param tenantId string

@description('Environment name (azd sets it): dev, prod...')
@maxLength(12)
param environmentName string = 'prod'

@description('Azure region of every resource.')
param location string

@description('HIPAA tenant: private endpoints, no public network access, customer-managed keys, 6-year logs.')
param hipaa bool = false

@description('VNet and private endpoints (forced on for HIPAA tenants).')
param privateNetworking bool = false

@description('Days logs and traces are kept (Log Analytics + Application Insights); HIPAA needs 2190 (6 years).')
@minValue(30)
@maxValue(4383)
param logRetentionDays int = 90

@description('Monthly budget in the billing currency; alerts fire at 83, 93 and 100 %.')
@minValue(1)
param monthlyBudget int = 200

@description('Who receives the budget alerts.')
param budgetContactEmails array

@description('First day of the budget period (yyyy-MM-01).')
param budgetStartDate string = utcNow('yyyy-MM-01')

@description('Model providers tried in order (LLM_PROVIDER_ORDER).')
param llmProviderOrder string = 'azure_openai,offline'

@description('azure_openai tokenizes PII only for third-party providers; always = HIPAA (PII_TOKENIZE).')
@allowed(['third_party', 'always'])
param piiTokenize string = 'third_party'

@description('Token-map vault: cosmos (envelope-encrypted, keys wrapped by Key Vault) or keyvault (PII_VAULT).')
@allowed(['cosmos', 'keyvault'])
param piiVault string = 'cosmos'

@description('Operator API authentication (OPERATOR_AUTH): entra in Azure.')
@allowed(['entra', 'function_key'])
param operatorAuth string = 'entra'

@description('Customer chat must present the tenant key or a session token (CHAT_REQUIRE_TENANT_KEY).')
param chatRequireTenantKey bool = true

@secure()
@description('HMAC key of customer session tokens (stored in Key Vault as session-token-key).')
param sessionTokenKey string

@secure()
@description('HMAC key that tokenizes customer ids in exports (stored in Key Vault as export-token-key).')
param exportTokenKey string

@description('Entra app registration (client id) operators sign in with; empty = App Service authentication off.')
param entraClientId string = ''

@description('Azure OpenAI capacity per deployment, in thousands of tokens per minute.')
param openAiCapacity object = {
  'gpt-4o-mini': 60
  'gpt-4o': 30
  'text-embedding-3-large': 60
}

@description('Maximum Flex Consumption instances.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

var privateOnly = hipaa || privateNetworking
var suffix = uniqueString(subscription().id, tenantId, environmentName)
var tags = {
  'shopdesk-tenant': tenantId
  'azd-env-name': environmentName
  hipaa: string(hipaa)
}

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-shopdesk-${tenantId}-${environmentName}'
  location: location
  tags: tags
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    location: location
    tags: tags
    suffix: suffix
    retentionDays: logRetentionDays
  }
}

module network 'modules/network.bicep' = if (privateOnly) {
  name: 'network'
  scope: rg
  params: {
    location: location
    tags: tags
    suffix: suffix
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    location: location
    tags: tags
    suffix: suffix
    privateOnly: privateOnly
    customerManagedKeys: hipaa
    sessionTokenKey: sessionTokenKey
    exportTokenKey: exportTokenKey
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    location: location
    tags: tags
    suffix: suffix
    privateOnly: privateOnly
    cmkIdentityId: hipaa ? keyVault.outputs.cmkIdentityId : ''
    cmkKeyName: hipaa ? keyVault.outputs.storageCmkKeyName : ''
    keyVaultUri: keyVault.outputs.vaultUri
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  scope: rg
  params: {
    location: location
    tags: tags
    suffix: suffix
    privateOnly: privateOnly
    cmkIdentityId: hipaa ? keyVault.outputs.cmkIdentityId : ''
    cmkKeyUri: hipaa ? keyVault.outputs.cosmosCmkKeyUri : ''
  }
}

module openAi 'modules/openai.bicep' = {
  name: 'openai'
  scope: rg
  params: {
    location: location
    tags: tags
    suffix: suffix
    privateOnly: privateOnly
    capacity: openAiCapacity
  }
}

module eventGrid 'modules/eventgrid.bicep' = {
  name: 'eventgrid'
  scope: rg
  params: {
    location: location
    tags: tags
    suffix: suffix
    privateOnly: privateOnly
    storageAccountName: storage.outputs.accountName
    knowledgeEventsQueueName: storage.outputs.knowledgeEventsQueueName
    knowledgeContainerName: storage.outputs.knowledgeContainerName
    deadLetterContainerName: storage.outputs.deadLetterContainerName
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  scope: rg
  params: {
    location: location
    tags: tags
    suffix: suffix
    privateOnly: privateOnly
    subnetId: privateOnly ? network.outputs.appSubnetId : ''
    maximumInstanceCount: maximumInstanceCount
    storageAccountName: storage.outputs.accountName
    deploymentContainerName: storage.outputs.deploymentContainerName
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabase: cosmos.outputs.databaseName
    documentsContainer: cosmos.outputs.documentsContainerName
    knowledgeContainer: cosmos.outputs.knowledgeContainerName
    piiMapsContainer: cosmos.outputs.piiMapsContainerName
    keyVaultUri: keyVault.outputs.vaultUri
    piiWrapKeyUri: keyVault.outputs.piiWrapKeyUri
    openAiEndpoint: openAi.outputs.endpoint
    eventGridTopicEndpoint: eventGrid.outputs.topicEndpoint
    llmProviderOrder: llmProviderOrder
    piiTokenize: hipaa ? 'always' : piiTokenize
    piiVault: piiVault
    operatorAuth: operatorAuth
    chatRequireTenantKey: chatRequireTenantKey
    auditEnabled: hipaa
    environmentName: environmentName
    entraClientId: entraClientId
    analyticsQueueName: storage.outputs.analyticsQueueName
    escalationQueueName: storage.outputs.escalationQueueName
    knowledgeEventsQueueName: storage.outputs.knowledgeEventsQueueName
    knowledgeBlobContainer: storage.outputs.knowledgeContainerName
    dataBlobContainer: storage.outputs.dataContainerName
  }
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  scope: rg
  params: {
    principalId: functionApp.outputs.principalId
    storageAccountName: storage.outputs.accountName
    cosmosAccountName: cosmos.outputs.accountName
    keyVaultName: keyVault.outputs.vaultName
    eventGridTopicName: eventGrid.outputs.topicName
    openAiAccountName: openAi.outputs.accountName
    appInsightsName: monitoring.outputs.appInsightsName
  }
}

module privateEndpoints 'modules/private-endpoints.bicep' = if (privateOnly) {
  name: 'private-endpoints'
  scope: rg
  params: {
    location: location
    tags: tags
    subnetId: privateOnly ? network.outputs.endpointSubnetId : ''
    vnetId: privateOnly ? network.outputs.vnetId : ''
    storageAccountName: storage.outputs.accountName
    cosmosAccountName: cosmos.outputs.accountName
    keyVaultName: keyVault.outputs.vaultName
    openAiAccountName: openAi.outputs.accountName
    eventGridTopicName: eventGrid.outputs.topicName
  }
}

module budget 'modules/budget.bicep' = {
  name: 'budget'
  scope: rg
  params: {
    tenantId: tenantId
    amount: monthlyBudget
    contactEmails: budgetContactEmails
    startDate: budgetStartDate
  }
}

output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output SERVICE_API_NAME string = functionApp.outputs.name
output SERVICE_API_URI string = functionApp.outputs.uri
output AZURE_KEY_VAULT_URI string = keyVault.outputs.vaultUri
output AZURE_OPENAI_ENDPOINT string = openAi.outputs.endpoint
output COSMOS_ENDPOINT string = cosmos.outputs.endpoint
