// Key Vault for the passwords and tokens the launcher definitions name as %SETTING%.
// RBAC mode: access is granted by roles (rbac.bicep), never by access policies. The
// secrets themselves are not in this template (nor in any parameter file): the
// administrator sets them with `az keyvault secret set`, and the app reads them through
// Key Vault references in its app settings.

@description('Name of the vault (3-24 letters, digits and hyphens, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Purge protection: a deleted vault or secret cannot be purged before the retention ends. Cannot be switched off once on.')
param enablePurgeProtection bool = true

@description('Days a deleted secret can be recovered.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 90

@description('Tags put on the vault.')
param tags object = {}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    enablePurgeProtection: enablePurgeProtection ? true : null
    publicNetworkAccess: 'Enabled'
  }
}

output ID string = vault.id
output NAME string = vault.name
output URI string = vault.properties.vaultUri
