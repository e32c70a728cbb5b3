/**
 * Blob metadata of a staged document. Blob metadata values must be ASCII, so free text
 * (file names, keys) is percent-encoded. Never put a secret here.
 */
export interface DocumentMetadata {
  launcherId: string;
  sourceKey: string;
  fileName: string;
  waitdir: string;
  job?: string;
  sha256: string;
  size: number;
  stagedAt: string;
  attempts: number;
  lastError?: string;
  /** Earliest time of the next delivery attempt after a transient failure. */
  nextAttemptAt?: string;
  deliveredAt?: string;
  deliveredAs?: string;
  location?: string;
  failedAt?: string;
  reason?: string;
}

const KEYS: Record<keyof DocumentMetadata, string> = {
  launcherId: 'launcherid',
  sourceKey: 'sourcekey',
  fileName: 'filename',
  waitdir: 'waitdir',
  job: 'job',
  sha256: 'sha256',
  size: 'size',
  stagedAt: 'stagedat',
  attempts: 'attempts',
  lastError: 'lasterror',
  nextAttemptAt: 'nextattemptat',
  deliveredAt: 'deliveredat',
  deliveredAs: 'deliveredas',
  location: 'location',
  failedAt: 'failedat',
  reason: 'reason',
};
/** Blob metadata is limited to 8 KiB in all; long texts (errors) are cut. */
const MAX_VALUE_LENGTH = 1024;

export function encodeMetadata(meta: Partial<DocumentMetadata>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta)) {
    if (v === undefined) continue;
    out[KEYS[k as keyof DocumentMetadata]] = encodeURIComponent(String(v)).slice(0, MAX_VALUE_LENGTH);
  }
  return out;
}

/** Prefix of the source-decoded facts (SourceDocument.metadata) among blob metadata. */
export const DOC_PREFIX = 'doc_';

export function encodeDocumentFacts(facts: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(facts ?? {})) {
    out[DOC_PREFIX + k.toLowerCase().replace(/[^a-z0-9_]/g, '_')] = encodeURIComponent(v).slice(0, MAX_VALUE_LENGTH);
  }
  return out;
}

/** New product metadata plus the document facts already on a blob (kept across moves). */
export function withDocumentFacts(existing: Record<string, string> | undefined, encoded: Record<string, string>): Record<string, string> {
  const facts = Object.fromEntries(Object.entries(existing ?? {}).filter(([k]) => k.startsWith(DOC_PREFIX)));
  return { ...facts, ...encoded };
}

export function decodeDocumentFacts(raw: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw ?? {})) {
    if (!k.startsWith(DOC_PREFIX)) continue;
    try {
      out[k.slice(DOC_PREFIX.length)] = decodeURIComponent(v);
    } catch {
      out[k.slice(DOC_PREFIX.length)] = v;
    }
  }
  return out;
}

export function decodeMetadata(raw: Record<string, string> | undefined): DocumentMetadata {
  const get = (k: keyof DocumentMetadata): string | undefined => {
    const v = raw?.[KEYS[k]];
    if (v === undefined) return undefined;
    try {
      return decodeURIComponent(v);
    } catch {
      return v;
    }
  };
  return {
    launcherId: get('launcherId') ?? '',
    sourceKey: get('sourceKey') ?? '',
    fileName: get('fileName') ?? 'document',
    waitdir: get('waitdir') ?? '',
    job: get('job'),
    sha256: get('sha256') ?? '',
    size: Number(get('size') ?? 0),
    stagedAt: get('stagedAt') ?? '',
    attempts: Number(get('attempts') ?? 0),
    lastError: get('lastError'),
    nextAttemptAt: get('nextAttemptAt'),
    deliveredAt: get('deliveredAt'),
    deliveredAs: get('deliveredAs'),
    location: get('location'),
    failedAt: get('failedAt'),
    reason: get('reason'),
  };
}
