// azd entry point: values come from the azd environment (`azd env set NAME value`); defaults = the demo shop.
using 'main.bicep'

param tenantId = readEnvironmentVariable('SHOPDESK_TENANT', 'demo')
param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', 'dev')
param location = readEnvironmentVariable('AZURE_LOCATION', 'eastus2')
param hipaa = bool(readEnvironmentVariable('SHOPDESK_HIPAA', 'false'))
param logRetentionDays = int(readEnvironmentVariable('SHOPDESK_LOG_RETENTION_DAYS', '90'))
param monthlyBudget = int(readEnvironmentVariable('SHOPDESK_MONTHLY_BUDGET', '200'))
param budgetContactEmails = [
  readEnvironmentVariable('SHOPDESK_BUDGET_EMAIL', 'ops@example.com')
]
param entraClientId = readEnvironmentVariable('SHOPDESK_ENTRA_CLIENT_ID', '')
param sessionTokenKey = readEnvironmentVariable('SHOPDESK_SESSION_TOKEN_KEY')
param exportTokenKey = readEnvironmentVariable('SHOPDESK_EXPORT_TOKEN_KEY')
