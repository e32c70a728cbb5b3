import { writeLargeMail as writeLargeMailFile } from './largeMail';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { launcherSegment } from '../../shared/staging/blobNames';
import type { BlobStore } from '../../shared/staging/blobStore';
import { decodeDocumentFacts, decodeMetadata } from '../../shared/staging/metadata';
import { testImapClient, type RunningDovecot } from './dovecot';

/**
 * A TCP proxy in front of Dovecot's clear-text POP3 port that can break the connection
 * the way a network does, for the fault tests of the POP3 launcher:
 * - `dropOnQuit`: the client's QUIT never reaches the server, both sides are cut (the
 *   server then keeps the messages marked for deletion, as RFC 1939 says);
 * - `stall`: nothing from the server is forwarded (a firewall that swallows packets);
 * - `cutAfterServerBytes`: the connection is cut once that many bytes came from the server.
 */
export interface Pop3Proxy {
  port: number;
  dropOnQuit: boolean;
  stall: boolean;
  cutAfterServerBytes?: number;
  /** QUIT commands that were swallowed. */
  droppedQuits: number;
  close(): Promise<void>;
}

export async function startPop3Proxy(targetPort: number, host = '127.0.0.1'): Promise<Pop3Proxy> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    let fromServer = 0;
    upstream.on('data', (chunk: Buffer) => {
      if (proxy.stall) return;
      fromServer += chunk.length;
      if (proxy.cutAfterServerBytes !== undefined && fromServer > proxy.cutAfterServerBytes) {
        client.write(chunk.subarray(0, chunk.length - (fromServer - proxy.cutAfterServerBytes)), cut);
        return;
      }
      client.write(chunk);
    });
    client.on('data', (chunk: Buffer) => {
      if (proxy.dropOnQuit && /(^|\n)QUIT\r?\n/i.test(chunk.toString('latin1'))) {
        proxy.droppedQuits++;
        cut();
        return;
      }
      upstream.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const proxy: Pop3Proxy = {
    port: typeof address === 'object' && address ? address.port : 0,
    dropOnQuit: false,
    stall: false,
    droppedQuits: 0,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}

/** Deletes every message of the test user's INBOX (each POP3 test starts from an empty maildrop). */
export async function emptyInbox(d: RunningDovecot): Promise<void> {
  const client = await testImapClient(d);
  try {
    const box = await client.mailboxOpen('INBOX');
    if (box.exists > 0) await client.messageDelete('1:*');
  } finally {
    await client.logout();
  }
}

export interface StagedDocument {
  blob: string;
  container: 'staging' | 'archive';
  fileName: string;
  sourceKey: string;
  sha256: string;
  messageId: string;
}

/** Every document of one launcher in staging and archive, in blob-name order. */
export async function stagedDocuments(store: BlobStore, launcherId: string): Promise<StagedDocument[]> {
  const out: StagedDocument[] = [];
  for (const container of ['staging', 'archive'] as const) {
    for await (const b of store.list(container, `${launcherSegment(launcherId)}/`)) {
      const props = await store.container(container).getBlobClient(b.name).getProperties();
      const meta = decodeMetadata(props.metadata);
      out.push({
        blob: b.name,
        container,
        fileName: meta.fileName!,
        sourceKey: meta.sourceKey!,
        sha256: meta.sha256!,
        messageId: decodeDocumentFacts(props.metadata).mailmessageid ?? '',
      });
    }
  }
  return out.sort((a, b) => a.blob.localeCompare(b.blob));
}

/** Document names by Message-ID, in document order. */
export function namesByMessage(docs: StagedDocument[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const d of docs) out.set(d.messageId, [...(out.get(d.messageId) ?? []), d.fileName]);
  return out;
}

/** Moves every staged document of a launcher to archive, as the sender does once delivered. */
export async function deliverAll(store: BlobStore, launcherId: string): Promise<number> {
  let n = 0;
  for await (const b of store.list('staging', `${launcherSegment(launcherId)}/`)) {
    const props = await store.container('staging').getBlobClient(b.name).getProperties();
    await store.move('staging', 'archive', b.name, props.metadata ?? {});
    n++;
  }
  return n;
}

/** A large mail whose text part has dot-led lines (POP3 dot-stuffing); returns the attachment's SHA-256. */
export function writeLargeMail(path: string, bytes: number, messageId: string): Promise<string> {
  return writeLargeMailFile(path, bytes, { messageId, fileName: 'archive-2024.pdf', bodyText: '.Le scan complet.\r\n.' });
}
