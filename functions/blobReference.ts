// `require`, not `import`: the worker (@azure/functions) requires this package, and the
// registry is a singleton of the module it loads; an ESM import would make the bundler
// take the package's other build, with a registry of its own.
import base = require('@azure/functions-extensions-base');

type ModelBindingData = base.ModelBindingData;
const { ResourceFactoryResolver } = base;

/**
 * `coldSender` asks the host for a reference to the staged blob instead of its bytes
 * (`sdkBinding`, the host's "deferred binding"): a document of hundreds of MB is then not
 * read by the host at all, the sender streams it from storage by name. A host that does
 * not offer deferred binding passes the bytes as before; the sender ignores them.
 */
export interface BlobReference {
  connection: string;
  containerName: string;
  blobName: string;
}

/** Source of the host's blob ModelBindingData (its Storage Blobs extension). */
export const BLOB_BINDING_SOURCE = 'AzureStorageBlobs';

/** Reads the reference the host sends: JSON `{"Connection", "ContainerName", "BlobName"}`. */
function blobReferenceOf(data: ModelBindingData | ModelBindingData[]): BlobReference | undefined {
  const one = Array.isArray(data) ? data[0] : data;
  if (!one?.content) return undefined;
  try {
    const c = JSON.parse(Buffer.from(one.content).toString('utf8')) as Record<string, unknown>;
    return { connection: String(c.Connection ?? ''), containerName: String(c.ContainerName ?? ''), blobName: String(c.BlobName ?? '') };
  } catch {
    return undefined;
  }
}

/** Registers, once per process, how the worker turns that reference into the trigger's value. */
export function acceptBlobReferences(): void {
  const resolver = ResourceFactoryResolver.getInstance();
  if (!resolver.hasResourceFactory(BLOB_BINDING_SOURCE)) resolver.registerResourceFactory(BLOB_BINDING_SOURCE, (data) => blobReferenceOf(data) ?? null);
}

export function isBlobReference(value: unknown): value is BlobReference {
  return typeof value === 'object' && value !== null && typeof (value as BlobReference).blobName === 'string';
}
