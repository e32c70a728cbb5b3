// Optional Azure Files mount for folder and Adullact sources: a share (often kept in
// step with an on-premises server by Azure File Sync) seen by the app as a local folder.
// SMB mounts authenticate with the account key, so the share lives in its own storage
// account, which keeps shared-key access off on the app's account.

@description('Name of the function app to mount the share into.')
param functionAppName string

@description('Name of the existing storage account that holds the share (same resource group).')
@minLength(3)
@maxLength(24)
param storageAccountName string

@description('Name of the file share.')
@minLength(3)
@maxLength(63)
param shareName string

@description('Where the app sees the share, e.g. /mounts/sources; launcher sources are paths under it.')
@minLength(2)
param mountPath string = '/mounts/sources'

@description('Name of the mount (letters, digits, hyphens).')
param mountName string = 'sources'

resource filesAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource site 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource mounts 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'azurestorageaccounts'
  properties: {
    '${mountName}': {
      type: 'AzureFiles'
      protocol: 'Smb'
      accountName: filesAccount.name
      shareName: shareName
      mountPath: mountPath
      accessKey: filesAccount.listKeys().keys[0].value
    }
  }
}

output MOUNT_PATH string = mountPath
