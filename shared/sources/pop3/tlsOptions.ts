import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { SourceError } from '../../errors';
import { readCa } from '../../util/readCa';

/** Oldest TLS version accepted from a mail server. */
export const MIN_TLS_VERSION = 'TLSv1.2';

export interface LauncherTls {
  rejectUnauthorized: boolean;
  ca?: string;
  servername?: string;
}

/**
 * Node TLS options from a launcher's `tls` block: the certificate is verified unless the
 * launcher opts out; `ca` is a PEM or the path of one; the SNI name is `tls.servername`,
 * else the server's name, never a bare IP (RFC 6066 forbids it; the certificate is then
 * checked against the IP).
 */
export async function tlsConnectionOptions(server: string, tls: LauncherTls, launcherId: string): Promise<ConnectionOptions> {
  return {
    rejectUnauthorized: tls.rejectUnauthorized,
    ca: readCa(tls.ca, (message, cause) => new SourceError('TLS_CA_UNREADABLE', `launcher ${launcherId}: ${message}`, { cause })),
    servername: tls.servername ?? (isIP(server) ? undefined : server),
    minVersion: MIN_TLS_VERSION,
  };
}

