// The demo soap & cosmetics shop: public endpoints, 90-day logs, a small budget.
// az deployment sub create -l eastus2 -f bicep/main.bicep -p bicep/tenants/demo.bicepparam
using '../main.bicep'

param tenantId = 'demo'
param environmentName = 'prod'
param location = 'eastus2'
param hipaa = false
param privateNetworking = false
param logRetentionDays = 90
param monthlyBudget = 150
param budgetContactEmails = [
  'ops@demo-shop.example'
]
param piiTokenize = 'third_party'
param chatRequireTenantKey = false
param sessionTokenKey = readEnvironmentVariable('SHOPDESK_SESSION_TOKEN_KEY')
param exportTokenKey = readEnvironmentVariable('SHOPDESK_EXPORT_TOKEN_KEY')
