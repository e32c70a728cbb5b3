#!/bin/sh
# Second deployment step: subscribes the blob trigger `coldSender` (source: EventGrid) to
# BlobCreated events of the staging container.
#
# Run it after the code is deployed (azd runs it as the postdeploy hook), and again after
# rotating the blobs_extension key. It creates the subscription, or points an existing one
# at the current endpoint. The key is never printed.
#
#   infra/scripts/create-eventgrid-subscription.sh -g <resource-group> [-s <subscription>] [-n <function-app>] [-t <system-topic>]
#
# Also reads RESOURCE_GROUP / AZURE_RESOURCE_GROUP, AZURE_FUNCTION_APP_NAME and
# EVENTGRID_SYSTEM_TOPIC_NAME (the outputs of infra/main.bicep, which azd exports), and
# AZURE_SUBSCRIPTION_ID: az keeps its own sign-in and default subscription, apart from azd's,
# so the subscription azd deployed to is selected first (az account set).
set -eu

FUNCTION_NAME="${COLD_SENDER_FUNCTION:-coldSender}"
CONTAINER="${STAGING_CONTAINER:-staging}"
SUBSCRIPTION_NAME="${EVENTGRID_SUBSCRIPTION_NAME:-coldsender-staging}"
# The key appears once the host has started with the blob trigger loaded.
KEY_WAIT_SECONDS="${KEY_WAIT_SECONDS:-300}"
CREATE_ATTEMPTS=3

RG="${RESOURCE_GROUP:-${AZURE_RESOURCE_GROUP:-}}"
SUBSCRIPTION="${AZURE_SUBSCRIPTION_ID:-}"
APP="${AZURE_FUNCTION_APP_NAME:-}"
TOPIC="${EVENTGRID_SYSTEM_TOPIC_NAME:-}"

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
  exit 2
}

while getopts "g:s:n:t:h" opt; do
  case "$opt" in
    g) RG="$OPTARG" ;;
    s) SUBSCRIPTION="$OPTARG" ;;
    n) APP="$OPTARG" ;;
    t) TOPIC="$OPTARG" ;;
    *) usage ;;
  esac
done

command -v az >/dev/null 2>&1 || { echo "error: the Azure CLI (az) is required" >&2; exit 1; }
[ -n "$RG" ] || { echo "error: resource group unknown: pass -g <resource-group>" >&2; usage; }
if [ -n "$SUBSCRIPTION" ]; then
  az account set -s "$SUBSCRIPTION"
fi

if [ -z "$APP" ]; then
  APP=$(az functionapp list -g "$RG" --query "[0].name" -o tsv)
fi
if [ -z "$TOPIC" ]; then
  TOPIC=$(az resource list -g "$RG" --resource-type Microsoft.EventGrid/systemTopics --query "[0].name" -o tsv)
fi
[ -n "$APP" ] || { echo "error: no function app in resource group $RG" >&2; exit 1; }
[ -n "$TOPIC" ] || { echo "error: no Event Grid system topic in resource group $RG (deploy infra/main.bicep first)" >&2; exit 1; }

# The app's real host name: newer apps get a unique default domain, not <app>.azurewebsites.net.
HOSTNAME=$(az functionapp show -g "$RG" -n "$APP" --query "properties.defaultHostName" -o tsv)
[ -n "$HOSTNAME" ] || { echo "error: cannot read the host name of $APP" >&2; exit 1; }

echo "waiting for the blobs_extension key of $APP (deploy the code first)..."
KEY=""
waited=0
while :; do
  KEY=$(az functionapp keys list -g "$RG" -n "$APP" --query "systemKeys.blobs_extension" -o tsv 2>/dev/null || true)
  [ -n "$KEY" ] && break
  if [ "$waited" -ge "$KEY_WAIT_SECONDS" ]; then
    echo "error: no blobs_extension key after ${KEY_WAIT_SECONDS}s: is the code deployed, and does the app start? (Application Insights > Failures)" >&2
    exit 1
  fi
  sleep 10
  waited=$((waited + 10))
done

ENDPOINT="https://${HOSTNAME}/runtime/webhooks/blobs?functionName=Host.Functions.${FUNCTION_NAME}&code=${KEY}"
SUBJECT="/blobServices/default/containers/${CONTAINER}/"

if az eventgrid system-topic event-subscription show -g "$RG" --system-topic-name "$TOPIC" -n "$SUBSCRIPTION_NAME" -o none 2>/dev/null; then
  echo "updating subscription $SUBSCRIPTION_NAME on $TOPIC -> https://${HOSTNAME}/runtime/webhooks/blobs?functionName=Host.Functions.${FUNCTION_NAME}&code=***"
  az eventgrid system-topic event-subscription update -g "$RG" --system-topic-name "$TOPIC" -n "$SUBSCRIPTION_NAME" \
    --endpoint "$ENDPOINT" \
    --included-event-types Microsoft.Storage.BlobCreated \
    --subject-begins-with "$SUBJECT" \
    -o none
else
  echo "creating subscription $SUBSCRIPTION_NAME on $TOPIC -> https://${HOSTNAME}/runtime/webhooks/blobs?functionName=Host.Functions.${FUNCTION_NAME}&code=***"
  attempt=1
  # Event Grid validates the endpoint while creating: a cold app may miss the first handshake.
  until az eventgrid system-topic event-subscription create -g "$RG" --system-topic-name "$TOPIC" -n "$SUBSCRIPTION_NAME" \
    --endpoint-type webhook \
    --endpoint "$ENDPOINT" \
    --included-event-types Microsoft.Storage.BlobCreated \
    --subject-begins-with "$SUBJECT" \
    --max-delivery-attempts 30 \
    --event-ttl 1440 \
    -o none; do
    if [ "$attempt" -ge "$CREATE_ATTEMPTS" ]; then
      echo "error: Event Grid could not validate the endpoint after $CREATE_ATTEMPTS attempts" >&2
      exit 1
    fi
    attempt=$((attempt + 1))
    echo "endpoint validation failed, trying again in 30 s (attempt $attempt of $CREATE_ATTEMPTS)"
    sleep 30
  done
fi
echo "done: documents staged in '$CONTAINER' now trigger $FUNCTION_NAME"
