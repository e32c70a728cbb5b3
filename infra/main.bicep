// EzGED COLD launchers on Azure Functions (Flex Consumption), in one resource group.
//
//   az deployment group create -g <rg> -f infra/main.bicep -p @infra/main.parameters.json
//   (or `azd up`), then deploy the code, then run infra/scripts/create-eventgrid-subscription.sh.
//
// Modules: identity, storage, monitoring, keyVault, functionApp, eventGridTopic,
// rbac (every role assignment), the optional filesMount and the optional alerts.
targetScope = 'resourceGroup'

@description('Short name put in every resource name (lowercase letters, digits, hyphens).')
@minLength(2)
@maxLength(10)
param namePrefix string = 'cold'

@description('Azure region of every resource (one where Flex Consumption is offered: az functionapp list-flexconsumption-locations).')
param location string = resourceGroup().location

@description('Tags put on every resource.')
param tags object = {}

// ---- timers: one app setting per launcher type, NCRONTAB with seconds, in UTC ----

@description('FOLDER_SCHEDULE: how often folderLauncher looks for due folder launchers (NCRONTAB, six fields, UTC).')
@minLength(11)
param folderSchedule string = '0 */1 * * * *'

@description('IMAP_SCHEDULE: how often imapLauncher runs (NCRONTAB, six fields, UTC).')
@minLength(11)
param imapSchedule string = '0 */1 * * * *'

@description('POP3_SCHEDULE: how often pop3Launcher runs (NCRONTAB, six fields, UTC).')
@minLength(11)
param pop3Schedule string = '0 */1 * * * *'

@description('O365_SCHEDULE: how often o365Launcher runs (NCRONTAB, six fields, UTC).')
@minLength(11)
param o365Schedule string = '0 */1 * * * *'

@description('ADULLACT_SCHEDULE: how often adullactLauncher runs (NCRONTAB, six fields, UTC).')
@minLength(11)
param adullactSchedule string = '0 */1 * * * *'

@description('RETRY_SCHEDULE: how often coldRetry delivers what is left in staging (failed attempts after their backoff, missed events) (NCRONTAB, six fields, UTC).')
@minLength(11)
param retrySchedule string = '0 */1 * * * *'

@description('Functions switched off for good (AzureWebJobs.<function>.Disabled), e.g. [\'pop3Launcher\', \'adullactLauncher\'].')
param disabledFunctions array = []

// ---- product settings ----

@description('LAUNCHERS_CONFIG: where the launcher definitions are; blob:<container>/<name> in the app\'s storage, or a path on the Azure Files mount.')
@minLength(1)
param launchersConfig string = 'blob:config/launchers.json'

@description('ARCHIVE_RETENTION_DAYS: days a delivered document stays in the archive container.')
@minValue(1)
@maxValue(36500)
param archiveRetentionDays int = 30

@description('DELIVERY_CONCURRENCY: uploads to EzGED in flight at once when coldRetry drains staging (each holds one EzGED connection).')
@minValue(1)
@maxValue(64)
param deliveryConcurrency int = 4

@description('App settings that hold a secret (the %NAME% a launcher definition uses for a password or token). Each reads Key Vault secret NAME with _ replaced by -.')
param secretSettingNames array = []

@description('More app settings, merged last.')
param extraAppSettings object = {}

// ---- hosting ----

@description('Node.js version of the workers (functionAppConfig.runtime). Node 20 left Azure Functions support on 30 April 2026; take 24 only where the region\'s Flex Consumption runtimes list it (az functionapp list-flexconsumption-runtimes -l <region> --runtime node).')
@allowed([
  '22'
  '24'
])
param nodeVersion string = '22'

@description('Memory of each instance, in MB. 2048 leaves room for several documents streamed at once.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Most instances the app scales out to (each also opens connections to EzGED and to the sources).')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Replication of the storage account.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param storageSku string = 'Standard_LRS'

@description('Key Vault purge protection (cannot be switched off once on).')
param keyVaultPurgeProtection bool = true

// ---- administrator ----

@description('Object id of the administrator (user or group) to grant Storage Blob Data Contributor and Key Vault Secrets Officer; empty for none. azd fills it with AZURE_PRINCIPAL_ID.')
param adminPrincipalId string = ''

@description('Kind of the administrator principal.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param adminPrincipalType string = 'User'

// ---- optional e-mail alerts ----

@description('E-mail address alerted when the app logs an error or moves documents to the failed container (log search alert rules on Application Insights, every 15 minutes); empty for no alerting resources.')
param alertEmail string = ''

// ---- optional Azure Files mount (folder and Adullact sources) ----

@description('Existing storage account (same resource group) holding the file share to mount; empty for no mount.')
param filesStorageAccountName string = ''

@description('File share to mount.')
param filesShareName string = ''

@description('Where the app sees the share; folder launcher sources are paths under it.')
param filesMountPath string = '/mounts/sources'

var prefix = toLower(namePrefix)
var suffix = take(uniqueString(subscription().id, resourceGroup().id, prefix), 6)
var functionAppName = 'func-${prefix}-${suffix}'
var names = {
  identity: 'id-${prefix}-${suffix}'
  storage: take('st${replace(prefix, '-', '')}${suffix}', 24)
  keyVault: take('kv-${prefix}-${suffix}', 24)
  logAnalytics: 'log-${prefix}-${suffix}'
  applicationInsights: 'appi-${prefix}-${suffix}'
  plan: 'plan-${prefix}-${suffix}'
  eventGridTopic: 'evgt-${prefix}-${suffix}'
  deploymentContainer: 'app-package-${take(functionAppName, 40)}'
  actionGroup: 'ag-${prefix}-${suffix}'
  errorsAlert: 'alert-${prefix}-${suffix}-errors'
  deadLettersAlert: 'alert-${prefix}-${suffix}-dead-letters'
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: names.identity
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: names.storage
    location: location
    tags: tags
    skuName: storageSku
    deploymentContainerName: names.deploymentContainer
    archiveRetentionDays: archiveRetentionDays
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: names.logAnalytics
    applicationInsightsName: names.applicationInsights
    location: location
    tags: tags
  }
}

module keyVault 'modules/keyVault.bicep' = {
  name: 'keyVault'
  params: {
    name: names.keyVault
    location: location
    tags: tags
    enablePurgeProtection: keyVaultPurgeProtection
  }
}

// Roles first: the app's first start downloads its package and reads its Key Vault
// references with the identity.
module rbac 'modules/rbac.bicep' = {
  name: 'rbac'
  params: {
    appPrincipalId: identity.outputs.PRINCIPAL_ID
    adminPrincipalId: adminPrincipalId
    adminPrincipalType: adminPrincipalType
    storageAccountName: storage.outputs.NAME
    keyVaultName: keyVault.outputs.NAME
    applicationInsightsName: monitoring.outputs.APPLICATIONINSIGHTS_NAME
  }
}

module app 'modules/functionApp.bicep' = {
  name: 'functionApp'
  params: {
    name: functionAppName
    planName: names.plan
    location: location
    tags: tags
    identityId: identity.outputs.ID
    identityClientId: identity.outputs.CLIENT_ID
    blobEndpoint: storage.outputs.BLOB_ENDPOINT
    queueEndpoint: storage.outputs.QUEUE_ENDPOINT
    tableEndpoint: storage.outputs.TABLE_ENDPOINT
    deploymentContainerUrl: storage.outputs.DEPLOYMENT_CONTAINER_URL
    applicationInsightsConnectionString: monitoring.outputs.APPLICATIONINSIGHTS_CONNECTION_STRING
    keyVaultUri: keyVault.outputs.URI
    nodeVersion: nodeVersion
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    launchersConfig: launchersConfig
    archiveRetentionDays: archiveRetentionDays
    deliveryConcurrency: deliveryConcurrency
    folderSchedule: folderSchedule
    imapSchedule: imapSchedule
    pop3Schedule: pop3Schedule
    o365Schedule: o365Schedule
    adullactSchedule: adullactSchedule
    retrySchedule: retrySchedule
    secretSettingNames: secretSettingNames
    disabledFunctions: disabledFunctions
    extraAppSettings: extraAppSettings
  }
  dependsOn: [
    rbac
  ]
}

module eventGridTopic 'modules/eventGridTopic.bicep' = {
  name: 'eventGridTopic'
  params: {
    name: names.eventGridTopic
    location: location
    tags: tags
    storageAccountId: storage.outputs.ID
  }
}

module filesMount 'modules/filesMount.bicep' = if (!empty(filesStorageAccountName)) {
  name: 'filesMount'
  params: {
    functionAppName: app.outputs.NAME
    storageAccountName: filesStorageAccountName
    shareName: filesShareName
    mountPath: filesMountPath
  }
}

module alerts 'modules/alerts.bicep' = if (!empty(alertEmail)) {
  name: 'alerts'
  params: {
    applicationInsightsName: monitoring.outputs.APPLICATIONINSIGHTS_NAME
    alertEmail: alertEmail
    actionGroupName: names.actionGroup
    errorsRuleName: names.errorsAlert
    deadLettersRuleName: names.deadLettersAlert
    location: location
    tags: tags
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = subscription().tenantId
output RESOURCE_GROUP string = resourceGroup().name
output AZURE_FUNCTION_APP_NAME string = app.outputs.NAME
output AZURE_FUNCTION_APP_HOSTNAME string = app.outputs.DEFAULT_HOSTNAME
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.NAME
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.NAME
output AZURE_KEY_VAULT_URI string = keyVault.outputs.URI
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.CLIENT_ID
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.APPLICATIONINSIGHTS_NAME
output EVENTGRID_SYSTEM_TOPIC_NAME string = eventGridTopic.outputs.NAME
output COLD_SENDER_FUNCTION string = 'coldSender'
output STAGING_CONTAINER string = 'staging'
