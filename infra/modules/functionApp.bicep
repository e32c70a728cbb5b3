// Flex Consumption (FC1) plan and the Linux Node function app. Runtime, scale and the
// deployment container live in functionAppConfig (Flex Consumption ignores the older
// FUNCTIONS_WORKER_RUNTIME / WEBSITE_RUN_FROM_PACKAGE settings, so none is set).
// Every timer schedule is an app setting (%FOLDER_SCHEDULE%...), so the portal can change
// it; note that a redeployment puts back the values of this template.

@description('Name of the function app (globally unique: <name>.azurewebsites.net).')
@minLength(2)
@maxLength(60)
param name string

@description('Name of the Flex Consumption plan.')
@minLength(1)
@maxLength(60)
param planName string

@description('Azure region.')
param location string

@description('Tags put on the plan and the app (the app also gets azd-service-name).')
param tags object = {}

@description('azd service name of the app (azure.yaml).')
param serviceName string = 'api'

@description('Resource id of the user-assigned managed identity.')
param identityId string

@description('Client id of the user-assigned managed identity.')
param identityClientId string

@description('Blob endpoint of the storage account (AzureWebJobsStorage, identity-based).')
param blobEndpoint string

@description('Queue endpoint of the storage account (the blob trigger\'s internal queue).')
param queueEndpoint string

@description('Table endpoint of the storage account (host state).')
param tableEndpoint string

@description('URL of the blob container Flex Consumption deploys the package into.')
param deploymentContainerUrl string

@description('Application Insights connection string (ingestion endpoint and resource id: not a secret once local auth is off).')
param applicationInsightsConnectionString string

@description('Key Vault URI, with its trailing slash.')
param keyVaultUri string

@description('Node.js version of the workers (Node 20 left Azure Functions support on 30 April 2026).')
@allowed([
  '22'
  '24'
])
param nodeVersion string = '22'

@description('Memory of each instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Most instances the app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('LAUNCHERS_CONFIG: a file path (Azure Files mount) or blob:<container>/<name>.')
@minLength(1)
param launchersConfig string

@description('ARCHIVE_RETENTION_DAYS, the same value as the archive lifecycle rule.')
param archiveRetentionDays int

@description('DELIVERY_CONCURRENCY: uploads in flight at once when coldRetry drains staging.')
@minValue(1)
@maxValue(64)
param deliveryConcurrency int = 4

@description('FOLDER_SCHEDULE: NCRONTAB (six fields, UTC) of folderLauncher.')
@minLength(11)
param folderSchedule string

@description('IMAP_SCHEDULE: NCRONTAB (six fields, UTC) of imapLauncher.')
@minLength(11)
param imapSchedule string

@description('POP3_SCHEDULE: NCRONTAB (six fields, UTC) of pop3Launcher.')
@minLength(11)
param pop3Schedule string

@description('O365_SCHEDULE: NCRONTAB (six fields, UTC) of o365Launcher.')
@minLength(11)
param o365Schedule string

@description('ADULLACT_SCHEDULE: NCRONTAB (six fields, UTC) of adullactLauncher.')
@minLength(11)
param adullactSchedule string

@description('RETRY_SCHEDULE: NCRONTAB (six fields, UTC) of coldRetry.')
@minLength(11)
param retrySchedule string

@description('App settings whose value is a Key Vault secret: setting IMAP_PASSWORD reads secret IMAP-PASSWORD.')
param secretSettingNames array = []

@description('Functions switched off (AzureWebJobs.<function>.Disabled = true), e.g. [\'pop3Launcher\'].')
param disabledFunctions array = []

@description('More app settings, merged last (they win).')
param extraAppSettings object = {}

// Identity-based host storage: the same names @azure/functions' host and
// shared/runtime/storeFromSettings.ts read. No connection string, no account key.
var storageSettings = {
  AzureWebJobsStorage__blobServiceUri: blobEndpoint
  AzureWebJobsStorage__queueServiceUri: queueEndpoint
  AzureWebJobsStorage__tableServiceUri: tableEndpoint
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
}

var telemetrySettings = {
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

var productSettings = {
  // Node flags of the worker, as shared/runtime/nodeFlags.ts (a small young generation:
  // peak memory of a 200 MB document 208-245 MB by default, 157-163 MB with it).
  languageWorkers__node__arguments: '--max-semi-space-size=1'
  LAUNCHERS_CONFIG: launchersConfig
  ARCHIVE_RETENTION_DAYS: string(archiveRetentionDays)
  // Read by coldRetry (shared/runtime/sendPending.ts) as well as by the CLI.
  DELIVERY_CONCURRENCY: string(deliveryConcurrency)
}

var scheduleSettings = {
  FOLDER_SCHEDULE: folderSchedule
  IMAP_SCHEDULE: imapSchedule
  POP3_SCHEDULE: pop3Schedule
  O365_SCHEDULE: o365Schedule
  ADULLACT_SCHEDULE: adullactSchedule
  RETRY_SCHEDULE: retrySchedule
}

// No version in the reference: the app follows the latest version of the secret.
var secretSettings = toObject(secretSettingNames, setting => setting, setting => '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/${replace(setting, '_', '-')}/)')

var disabledSettings = toObject(disabledFunctions, fn => 'AzureWebJobs.${fn}.Disabled', fn => 'true')

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': serviceName
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    // No ftpsState: Flex Consumption has no FTP(S) and lists properties.ftpsState among its
    // deprecated site properties (functions-app-settings#flex-consumption-plan-deprecations).
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      runtime: {
        name: 'node'
        version: nodeVersion
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
    }
  }
}

resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: union(storageSettings, telemetrySettings, productSettings, scheduleSettings, secretSettings, disabledSettings, extraAppSettings)
}

output NAME string = site.name
output ID string = site.id
output DEFAULT_HOSTNAME string = site.properties.defaultHostName
