// Azure OpenAI with the three deployments the agents use: gpt-4o-mini (intent, critic), gpt-4o (response),
// text-embedding-3-large (knowledge, 1536 dimensions requested per call). Key auth is disabled: the function app
// calls it with its identity (Cognitive Services OpenAI User).
param location string
param tags object
param suffix string
param privateOnly bool
@description('Thousands of tokens per minute per deployment name.')
param capacity object

var deployments = [
  {
    name: 'gpt-4o-mini'
    model: 'gpt-4o-mini'
    version: '2024-07-18'
    sku: 'GlobalStandard'
  }
  {
    name: 'gpt-4o'
    model: 'gpt-4o'
    version: '2024-11-20'
    sku: 'GlobalStandard'
  }
  {
    name: 'text-embedding-3-large'
    model: 'text-embedding-3-large'
    version: '1'
    sku: 'Standard'
  }
]

resource account 'Microsoft.CognitiveServices/accounts@2024-10-01' = {
  name: 'oai-${suffix}'
  location: location
  tags: tags
  kind: 'OpenAI'
  sku: {
    name: 'S0'
  }
  properties: {
    customSubDomainName: 'oai-${suffix}'
    disableLocalAuth: true
    publicNetworkAccess: privateOnly ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: privateOnly ? 'Deny' : 'Allow'
    }
  }
}

// One at a time: Azure OpenAI rejects concurrent deployment changes on one account.
@batchSize(1)
resource modelDeployments 'Microsoft.CognitiveServices/accounts/deployments@2024-10-01' = [for d in deployments: {
  parent: account
  name: d.name
  sku: {
    name: d.sku
    capacity: capacity[d.name]
  }
  properties: {
    model: {
      format: 'OpenAI'
      name: d.model
      version: d.version
    }
    versionUpgradeOption: 'OnceNewDefaultVersionAvailable'
  }
}]

output accountName string = account.name
output endpoint string = account.properties.endpoint
output deploymentNames array = [for d in deployments: d.name]
