import { app, type InvocationContext } from '@azure/functions';
import { sendDocument } from '../shared/runtime/sendDocument';
import { createLogger, methodsSink } from '../shared/util/log';

/**
 * Delivers each document staged by a launcher into its EzGED COLD. The blob content the
 * host passes is not used: the document is streamed from storage by name, so that
 * metadata and conditional moves apply.
 */
export async function coldSender(_blob: unknown, context: InvocationContext): Promise<void> {
  const name = String(context.triggerMetadata?.name ?? '');
  const logger = createLogger(methodsSink(context), { invocationId: context.invocationId, blob: name });
  await sendDocument(name, process.env, logger);
}

app.storageBlob('coldSender', {
  path: 'staging/{name}',
  connection: 'AzureWebJobsStorage',
  source: 'EventGrid',
  handler: coldSender,
});
