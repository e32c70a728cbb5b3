// The app's storage account: the Functions host's own state (AzureWebJobsStorage),
// the product's containers (shared/staging/containers.ts) and the Flex Consumption
// deployment container. Shared-key access is off: the app, the deployment and the
// administrator all use Entra ID (see rbac.bicep).

@description('Name of the storage account (3-24 lowercase letters and digits, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Replication of the account. ZRS survives the loss of one zone of the region.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param skuName string = 'Standard_LRS'

@description('Container that holds the app package Flex Consumption runs from.')
@minLength(3)
@maxLength(63)
param deploymentContainerName string

@description('Days a delivered document stays in the archive container before the lifecycle rule deletes it.')
@minValue(1)
@maxValue(36500)
param archiveRetentionDays int = 30

@description('Days a deleted blob or container can still be restored (soft delete).')
@minValue(1)
@maxValue(365)
param softDeleteDays int = 7

@description('Tags put on the account.')
param tags object = {}

// The product's containers, one role each (shared/staging/containers.ts).
var productContainers = [
  'staging'
  'archive'
  'failed'
  'state'
  'config'
]

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: softDeleteDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: softDeleteDays
    }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for container in productContainers: {
    parent: blobService
    name: container
    properties: {
      publicAccess: 'None'
    }
  }
]

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

// Retention by lifecycle rules rather than by a purge function: the platform runs them
// once a day, for free, and they cannot be skipped by a failing function.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'archive-retention'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                'archive/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: archiveRetentionDays
                }
              }
            }
          }
        }
      ]
    }
  }
  dependsOn: [
    containers
  ]
}

output ID string = account.id
output NAME string = account.name
output BLOB_ENDPOINT string = account.properties.primaryEndpoints.blob
output QUEUE_ENDPOINT string = account.properties.primaryEndpoints.queue
output TABLE_ENDPOINT string = account.properties.primaryEndpoints.table
output DEPLOYMENT_CONTAINER_URL string = '${account.properties.primaryEndpoints.blob}${deploymentContainer.name}'
