// Monthly cost budget on the tenant's resource group with alerts at 83, 93 and 100 % of actual spend.
param tenantId string
param amount int
param contactEmails array
param startDate string

resource budget 'Microsoft.Consumption/budgets@2023-11-01' = {
  name: 'budget-shopdesk-${tenantId}'
  properties: {
    category: 'Cost'
    amount: amount
    timeGrain: 'Monthly'
    timePeriod: {
      startDate: startDate
    }
    notifications: {
      actual83: {
        enabled: true
        operator: 'GreaterThanOrEqualTo'
        threshold: 83
        thresholdType: 'Actual'
        contactEmails: contactEmails
      }
      actual93: {
        enabled: true
        operator: 'GreaterThanOrEqualTo'
        threshold: 93
        thresholdType: 'Actual'
        contactEmails: contactEmails
      }
      actual100: {
        enabled: true
        operator: 'GreaterThanOrEqualTo'
        threshold: 100
        thresholdType: 'Actual'
        contactEmails: contactEmails
      }
    }
  }
}
