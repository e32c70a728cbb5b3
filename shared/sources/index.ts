import type { LauncherDefinition, Protocol } from '../config/schema';
import { SourceError } from '../errors';
import { createAdullactSource } from './adullact/adullactSource';
import { createFolderSource } from './folder/folderSource';
import { createImapSource } from './imap/imapSource';
import { createO365Source } from './o365/o365Source';
import { createPop3Source } from './pop3/pop3Source';
import type { Source, SourceContext, SourceFactory } from './types';

/** One factory per protocol; a protocol without one says so clearly. */
const FACTORIES = new Map<Protocol, SourceFactory<never>>([['adullact', createAdullactSource], ['folder', createFolderSource], ['imap', createImapSource], ['o365', createO365Source], ['pop3', createPop3Source]]);

export async function openSource(ctx: SourceContext): Promise<Source> {
  const factory = FACTORIES.get(ctx.launcher.protocol) as SourceFactory<LauncherDefinition> | undefined;
  if (!factory) {
    throw new SourceError('PROTOCOL_NOT_AVAILABLE', `launcher ${ctx.launcher.id}: the ${ctx.launcher.protocol} protocol is not available in this version`);
  }
  return factory(ctx);
}

export function isProtocolAvailable(protocol: Protocol): boolean {
  return FACTORIES.has(protocol);
}
