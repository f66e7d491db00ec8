// A HIPAA clinic: private endpoints only, customer-managed keys, PII tokenized for every provider (including
// Azure OpenAI), a data-access audit log, logs and traces kept 6 years, operators through Entra ID.
// az deployment sub create -l eastus2 -f bicep/main.bicep -p bicep/tenants/hipaa-clinic.bicepparam
using '../main.bicep'

param tenantId = 'hipaa-clinic'
param environmentName = 'prod'
param location = 'eastus2'
param hipaa = true
param privateNetworking = true
param logRetentionDays = 2190
param monthlyBudget = 600
param budgetContactEmails = [
  'compliance@clinic.example'
  'it@clinic.example'
]
param llmProviderOrder = 'azure_openai,offline'
param piiTokenize = 'always'
param piiVault = 'cosmos'
param operatorAuth = 'entra'
param chatRequireTenantKey = true
param entraClientId = readEnvironmentVariable('SHOPDESK_ENTRA_CLIENT_ID', '')
param sessionTokenKey = readEnvironmentVariable('SHOPDESK_SESSION_TOKEN_KEY')
param exportTokenKey = readEnvironmentVariable('SHOPDESK_EXPORT_TOKEN_KEY')
