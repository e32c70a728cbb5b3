// Optional e-mail alerts (main.bicep deploys this module only when alertEmail is set): an
// action group that e-mails the administrator, and two log search alert rules on the
// Application Insights component, evaluated every 15 minutes over the last 15 minutes:
//   errors       every error-level trace (severityLevel 3 Error, 4 Critical) but dead
//                letters: "launcher X could not run", an item left at its source, a host
//                error; one alert per launcher and function.
//   dead letters documents moved to the failed container; one alert per launcher.
//
// How the app's lines land in Application Insights: the functions log through the
// invocation context (shared/util/log.ts methodsSink), so each trace's message is the
// text followed by the fields as JSON, {"invocationId":...,"launcherId":...,...}: the
// fields are in the message, not in customDimensions (which only holds the host's
// Category, LogLevel, InvocationId...). The queries take launcherId, reason... from that
// JSON, which always starts with invocationId (the first binding of every handler's
// logger), so braces in the text itself cannot be mistaken for it.
//
// No role: a rule without a managed identity queries with the permissions of whoever last
// deployed it, who can read the component.

@description('Name of the Application Insights component the rules query (workspace-based; its traces are the app\'s logs).')
@minLength(1)
@maxLength(260)
param applicationInsightsName string

@description('E-mail address that receives the alerts.')
@minLength(3)
@maxLength(254)
param alertEmail string

@description('Name of the action group.')
@minLength(1)
@maxLength(260)
param actionGroupName string

@description('Name of the alert rule on error-level traces.')
@minLength(1)
@maxLength(260)
param errorsRuleName string

@description('Name of the alert rule on documents moved to the failed container.')
@minLength(1)
@maxLength(260)
param deadLettersRuleName string

@description('Azure region of the alert rules (that of the component).')
param location string

@description('Tags put on every resource.')
param tags object = {}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: actionGroupName
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'ColdLauncher'
    enabled: true
    emailReceivers: [
      {
        name: 'administrator'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

// Each rule counts the rows of its query (one per trace) per dimension value; the rows,
// with the message and its fields, are what the e-mail's "View query results" link opens.
var errorsQuery = '''
let fieldsJson = @'\{"invocationId":.*\}$';
traces
| where severityLevel >= 3
| where message !contains "moved to the failed container"
| extend fields = parse_json(extract(fieldsJson, 0, message))
| project timestamp,
    launcherId = coalesce(tostring(fields.launcherId), "(none)"),
    functionName = coalesce(operation_Name, extract(@'^Function\.([^.]+)', 1, tostring(customDimensions.Category)), "(host)"),
    errorMessage = replace_regex(message, @'\s*\{"invocationId":.*\}$', ''),
    reason = tostring(fields.reason),
    item = tostring(fields.item),
    blob = tostring(fields.blob),
    code = tostring(fields.code),
    invocationId = tostring(fields.invocationId)
'''

var deadLettersQuery = '''
let fieldsJson = @'\{"invocationId":.*\}$';
traces
| where severityLevel >= 3
| where message contains "moved to the failed container"
| extend fields = parse_json(extract(fieldsJson, 0, message))
| project timestamp,
    launcherId = coalesce(tostring(fields.launcherId), "(none)"),
    document = extract(@'^could not deliver "(.*)": moved to the failed container', 1, message),
    reason = tostring(fields.reason),
    attempts = toint(fields.attempts),
    blob = tostring(fields.blob)
'''

// Stateful: one e-mail when errors start for a launcher and function, none while they
// go on, one ("Resolved") when they have stopped: no error for two or three evaluations,
// 30 to 45 minutes. (autoMitigate and muteActionsDuration cannot be set together.)
resource errorsRule 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: errorsRuleName
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'EzGED COLD launchers: errors (${applicationInsightsName})'
    description: 'The function app logged an error in the last 15 minutes (launcher X could not run, an item left at its source for the next run, a host error), for the launcher and function named in the dimensions. "View query results" lists the messages with their reason. One e-mail when errors start, another (Resolved) once none has been logged for 30 to 45 minutes.'
    severity: 1
    enabled: true
    scopes: [
      appInsights.id
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: errorsQuery
          timeAggregation: 'Count'
          dimensions: [
            {
              name: 'launcherId'
              operator: 'Include'
              values: [
                '*'
              ]
            }
            {
              name: 'functionName'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    // The traces table is known to the query service only once the app has written to it:
    // validating at deployment would fail the first deployment.
    skipQueryValidation: true
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

// Each dead letter needs a person, and nothing "resolves" it but a retry: stateless, with
// actions muted for an hour after each e-mail, so a run of failures sends one e-mail an
// hour, not one every 15 minutes.
resource deadLettersRule 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: deadLettersRuleName
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'EzGED COLD launchers: documents moved to the failed container (${applicationInsightsName})'
    description: 'Documents of the launcher named in the dimensions could not be delivered to EzGED and were moved to the failed container (attempts used up, or a permanent error such as bad credentials). "View query results" lists them with the reason. Fix the cause, then put them back with cold-launcher retry (cold-launcher status lists every dead letter).'
    severity: 2
    enabled: true
    scopes: [
      appInsights.id
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: deadLettersQuery
          timeAggregation: 'Count'
          dimensions: [
            {
              name: 'launcherId'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: false
    muteActionsDuration: 'PT1H'
    skipQueryValidation: true
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}
