// The user-assigned managed identity the function app runs as. One identity for
// storage, Key Vault references, deployment package download and telemetry, so that
// every grant is in rbac.bicep and survives re-creating the app.

@description('Name of the user-assigned managed identity.')
@minLength(3)
@maxLength(128)
param name string

@description('Azure region.')
param location string

@description('Tags put on the identity.')
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output ID string = identity.id
output NAME string = identity.name
output CLIENT_ID string = identity.properties.clientId
output PRINCIPAL_ID string = identity.properties.principalId
