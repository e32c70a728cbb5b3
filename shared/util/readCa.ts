import { readFileSync } from 'node:fs';

/**
 * A `tls.ca` value: a PEM given inline, or the path of a PEM file (read once, at connection
 * time). `fail` turns an unreadable file into the caller's own typed error.
 */
export function readCa(ca: string | undefined, fail: (message: string, cause: unknown) => Error): string | undefined {
  if (!ca) return undefined;
  if (ca.includes('-----BEGIN')) return ca;
  try {
    return readFileSync(ca, 'utf8');
  } catch (err) {
    throw fail(`"tls.ca" is neither a PEM certificate nor a readable file (${ca}: ${(err as NodeJS.ErrnoException).code ?? 'error'})`, err);
  }
}
