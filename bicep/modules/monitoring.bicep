// Log Analytics + workspace-based Application Insights. Retention follows the tenant's policy: up to 730 days
// interactive, the rest (HIPAA: 6 years) as long-term retention on the App* tables. Local auth is off, so the
// function app publishes telemetry with its identity (Monitoring Metrics Publisher, see roles.bicep).
param location string
param tags object
param suffix string
@minValue(30)
@maxValue(4383)
param retentionDays int

var interactiveDays = min(retentionDays, 730)
var appTables = [
  'AppRequests'
  'AppDependencies'
  'AppTraces'
  'AppExceptions'
  'AppEvents'
  'AppMetrics'
]

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${suffix}'
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: interactiveDays
    features: {
      enableLogAccessUsingOnlyResourcePermissions: true
    }
  }
}

resource tables 'Microsoft.OperationalInsights/workspaces/tables@2023-09-01' = [for table in appTables: {
  parent: workspace
  name: table
  properties: {
    retentionInDays: interactiveDays
    totalRetentionInDays: retentionDays
  }
}]

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${suffix}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
    RetentionInDays: interactiveDays
    IngestionMode: 'LogAnalytics'
  }
}

output appInsightsName string = appInsights.name
output appInsightsConnectionString string = appInsights.properties.ConnectionString
output workspaceId string = workspace.id
