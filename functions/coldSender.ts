import { app, type InvocationContext } from '@azure/functions';
import { sendDocument } from '../shared/runtime/sendDocument';
import { createLogger, methodsSink } from '../shared/util/log';
import { acceptBlobReferences, isBlobReference } from './blobReference';

acceptBlobReferences();

/**
 * Delivers each document staged by a launcher into its EzGED COLD. The document is
 * streamed from storage by name, so that metadata, claims and conditional moves apply: the
 * trigger asks the host for a reference to the blob, not its content (blobReference.ts).
 */
export async function coldSender(blob: unknown, context: InvocationContext): Promise<void> {
  const name = String(context.triggerMetadata?.name ?? (isBlobReference(blob) ? blob.blobName : ''));
  const logger = createLogger(methodsSink(context), { invocationId: context.invocationId, blob: name });
  await sendDocument(name, process.env, logger);
}

app.storageBlob('coldSender', {
  path: 'staging/{name}',
  connection: 'AzureWebJobsStorage',
  source: 'EventGrid',
  sdkBinding: true,
  handler: coldSender,
});
