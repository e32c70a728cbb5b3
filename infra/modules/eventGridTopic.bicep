// The Event Grid system topic of the storage account. The Flex Consumption blob trigger
// (source: 'EventGrid') is fed by a subscription on this topic; the subscription is
// created after the code is deployed (infra/scripts/create-eventgrid-subscription.sh),
// because its endpoint carries the app's blobs_extension key, which only exists once
// the host has started with the blob trigger.

@description('Name of the system topic.')
@minLength(3)
@maxLength(128)
param name string

@description('Region of the storage account (a system topic lives with its source).')
param location string

@description('Resource id of the storage account whose events the topic publishes.')
param storageAccountId string

@description('Tags put on the topic.')
param tags object = {}

resource topic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: name
  location: location
  tags: tags
  properties: {
    source: storageAccountId
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

output NAME string = topic.name
output ID string = topic.id
