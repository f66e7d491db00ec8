// The function app on Flex Consumption (Python 3.11) with a system-assigned identity. App settings are built from
// core.config.Settings: every field is set here or listed, with its reason, as optional in
// tests/unit/test_bicep_settings.py. Every connection is identity-based: no connection strings or keys.
param location string
param tags object
param suffix string
param privateOnly bool
param subnetId string = ''
param maximumInstanceCount int
// Chat requests an instance serves at once (Flex Consumption's default for Python is 1). The chat handler mostly
// waits for its orchestration, so one vCPU serves many; docs/throughput.md gives the figures.
param httpPerInstanceConcurrency int = 16
param storageAccountName string
param deploymentContainerName string
param appInsightsConnectionString string
param cosmosEndpoint string
param cosmosDatabase string
param documentsContainer string
param knowledgeContainer string
param piiMapsContainer string
param keyVaultUri string
param piiWrapKeyUri string
param openAiEndpoint string
param eventGridTopicEndpoint string
param llmProviderOrder string
param piiTokenize string
param piiVault string
param operatorAuth string
param chatRequireTenantKey bool
param auditEnabled bool
param environmentName string
param analyticsQueueName string = 'analytics-events'
param escalationQueueName string = 'escalations'
param knowledgeEventsQueueName string = 'knowledge-events'
param knowledgeBlobContainer string = 'knowledge'
param dataBlobContainer string = 'shopdesk-data'
@description('Entra app registration (client id) that signs operators in (App Service authentication); empty = off.')
param entraClientId string = ''
param logLevel string = 'INFO'

var storageSuffix = environment().suffixes.storage
var vaultName = split(replace(keyVaultUri, 'https://', ''), '.')[0]

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-${suffix}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: 'func-${suffix}'
  location: location
  tags: union(tags, {
    'azd-service-name': 'api'
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    virtualNetworkSubnetId: empty(subnetId) ? null : subnetId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'SystemAssignedIdentity'
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: 2048
        triggers: {
          http: {
            perInstanceConcurrency: httpPerInstanceConcurrency
          }
        }
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
}

resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: {
    // Functions host: identity-based storage (AzureWebJobsStorage itself stays unset) and telemetry.
    AzureWebJobsStorage__blobServiceUri: 'https://${storageAccountName}.blob.${storageSuffix}/'
    AzureWebJobsStorage__queueServiceUri: 'https://${storageAccountName}.queue.${storageSuffix}/'
    AzureWebJobsStorage__tableServiceUri: 'https://${storageAccountName}.table.${storageSuffix}/'
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD'
    // The Python worker exports OpenTelemetry (host.json telemetryMode): invocation traces, the app's spans, logs.
    PYTHON_ENABLE_OPENTELEMETRY: 'true'
    PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY: 'true'
    // Python worker: threads for sync functions, as many as host.json lets activities run at once.
    PYTHON_THREADPOOL_THREAD_COUNT: '16'
    APP_ENV: 'azure-${environmentName}'
    LOG_LEVEL: logLevel
    DATA_DIR: '/tmp/shopdesk'
    KNOWLEDGE_DIR: 'knowledge/tenants'
    // Stores and queues.
    DOCUMENT_STORE: 'cosmos'
    EVENT_QUEUE: 'storage'
    ANALYTICS_QUEUE_NAME: analyticsQueueName
    ESCALATION_QUEUE_NAME: escalationQueueName
    KNOWLEDGE_EVENTS_QUEUE_NAME: knowledgeEventsQueueName
    COSMOS_ENDPOINT: cosmosEndpoint
    COSMOS_DATABASE: cosmosDatabase
    COSMOS_CONTAINER: documentsContainer
    BLOB_ACCOUNT_URL: 'https://${storageAccountName}.blob.${storageSuffix}/'
    BLOB_CONTAINER: dataBlobContainer
    EVENT_BUS: 'eventgrid'
    EVENT_GRID_ENDPOINT: eventGridTopicEndpoint
    // Models: deployment names are the ones openai.bicep creates.
    LLM_PROVIDER_ORDER: llmProviderOrder
    LLM_MODEL_INTENT: 'gpt-4o-mini'
    LLM_MODEL_CRITIC: 'gpt-4o-mini'
    LLM_MODEL_RESPONSE: 'gpt-4o'
    AZURE_OPENAI_ENDPOINT: openAiEndpoint
    AZURE_OPENAI_API_VERSION: '2024-10-21'
    // Knowledge.
    EMBEDDER: 'azure_openai'
    EMBEDDING_DEPLOYMENT: 'text-embedding-3-large'
    EMBEDDING_MODEL: 'text-embedding-3-large'
    EMBEDDING_DIMENSIONS: '1536'
    VECTOR_INDEX: 'cosmos'
    KNOWLEDGE_COSMOS_CONTAINER: knowledgeContainer
    KNOWLEDGE_BLOB_CONTAINER: knowledgeBlobContainer
    // Timers (%SETTING% in the trigger, so the host needs them as app settings).
    DAILY_SUMMARY_SCHEDULE: '0 5 0 * * *'
    ANALYTICS_SWEEP_SCHEDULE: '30 * * * * *'
    DURABLE_PURGE_SCHEDULE: '0 15 3 * * *'
    DURABLE_RETENTION_DAYS: '7'
    EXPORTS_SCHEDULE: '0 30 2 * * *'
    PROMOTIONS_SCHEDULE: '0 * * * * *'
    REPORT_DAILY_SCHEDULE: '0 0 6 * * *'
    REPORT_WEEKLY_SCHEDULE: '0 0 6 * * 1'
    SYNC_TICK_SCHEDULE: '0 * * * * *'
    NEWS_POLL_SCHEDULE: '0 */30 * * * *'
    // PII: Cosmos vault with data keys wrapped by the Key Vault key; HIPAA tenants tokenize for every provider.
    PII_VAULT: piiVault
    PII_TOKENIZE: piiTokenize
    PII_KEYVAULT_URL: keyVaultUri
    PII_KEYVAULT_KEY_ID: piiWrapKeyUri
    PII_COSMOS_ENDPOINT: cosmosEndpoint
    PII_COSMOS_DATABASE: cosmosDatabase
    PII_COSMOS_CONTAINER: piiMapsContainer
    // Tenancy: operator API through Entra, chat keys or session tokens, audit log.
    OPERATOR_AUTH: operatorAuth
    CHAT_REQUIRE_TENANT_KEY: string(chatRequireTenantKey)
    AUDIT_ALL_TENANTS: string(auditEnabled)
    SESSION_TOKEN_KEY: '@Microsoft.KeyVault(VaultName=${vaultName};SecretName=session-token-key)'
    EXPORT_TOKEN_KEY: '@Microsoft.KeyVault(VaultName=${vaultName};SecretName=export-token-key)'
  }
}

// Operators sign in with Entra ID; chat stays anonymous at the front door and is authorized per tenant in code.
resource auth 'Microsoft.Web/sites/config@2024-04-01' = if (!empty(entraClientId)) {
  parent: site
  name: 'authsettingsV2'
  properties: {
    globalValidation: {
      requireAuthentication: false
      unauthenticatedClientAction: 'AllowAnonymous'
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: entraClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${subscription().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            'api://${entraClientId}'
          ]
        }
      }
    }
  }
}

output name string = site.name
output uri string = 'https://${site.properties.defaultHostName}'
output principalId string = site.identity.principalId
output privateOnly bool = privateOnly
