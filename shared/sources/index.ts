import type { LauncherDefinition, Protocol } from '../config/schema';
import { SourceError } from '../errors';
import type { Source, SourceContext, SourceFactory } from './types';

/**
 * One factory per protocol, loaded on first use: a process that only polls folders never
 * loads the IMAP, Graph or XML libraries (less memory, faster cold start).
 */
const FACTORIES = new Map<Protocol, () => Promise<SourceFactory<never>>>([
  ['adullact', async () => (await import('./adullact/adullactSource.js')).createAdullactSource],
  ['folder', async () => (await import('./folder/folderSource.js')).createFolderSource],
  ['imap', async () => (await import('./imap/imapSource.js')).createImapSource],
  ['o365', async () => (await import('./o365/o365Source.js')).createO365Source],
  ['pop3', async () => (await import('./pop3/pop3Source.js')).createPop3Source],
]);

export async function openSource(ctx: SourceContext): Promise<Source> {
  const load = FACTORIES.get(ctx.launcher.protocol);
  if (!load) {
    throw new SourceError('PROTOCOL_NOT_AVAILABLE', `launcher ${ctx.launcher.id}: the ${ctx.launcher.protocol} protocol is not available in this version`);
  }
  const factory = (await load()) as SourceFactory<LauncherDefinition>;
  return factory(ctx);
}
