import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { LauncherOf } from '../../config/schema';
import { ColdError, ItemRejectedError, SourceError, describeError } from '../../errors';
import { compileFilenameFilter } from '../../routing/filenameFilter';
import { resolveFolder } from '../folder/afterSuccess';
import { StabilityTracker, type Observations } from '../folder/stability';
import type { Candidate, Source, SourceContext, SourceDocument, SourceItem } from '../types';
import { envelopeCompletion, quarantineEnvelope } from './completion';
import { discoverEnvelopes, type EnvelopeLocation } from './discovery';
import { envelopeFiles, listingHash, metadataHashOf, readEnvelope, type EnvelopeSpec } from './envelope';
import { folderReader, type EnvelopeReader } from './envelopeReader';
import { EnvelopeFormatError } from './errors';
import { DEFAULT_METADATA_STEM } from './metadata';
import { zipReader } from './zipReader';

/** Default quarantine, inside the source (hidden, so never scanned). */
export const DEFAULT_QUARANTINE_FOLDER = '.adullact-quarantine';
/** Envelopes worked on at once (each may stream a large PES). */
export const ADULLACT_CONCURRENCY = 2;
/** A zip that cannot be read yet is waited for this long after its last change (still being copied?). */
export const UNREADABLE_ZIP_GRACE_MS = 60_000;

export interface AdullactItem extends SourceItem {
  envelope: EnvelopeLocation;
  /** Why the envelope cannot be read at all (found while scanning): put aside by documents(). */
  problem?: string;
}

type AdullactLauncher = LauncherOf<'adullact'>;

/**
 * The Adullact launcher's source: the folder where a Pastell dépôt connector writes one
 * folder or one `.zip` per document. Each complete envelope is one item; its documents
 * are its files, the PES pièces justificatives, and a JSON index of what was decoded,
 * all grouped by the envelope type (`acte_nature`, `helios`, `chorus_fact`).
 * Item key: envelope name + hash of its metadata file, so a different envelope deposited
 * again under the same name is a new item.
 */
export async function createAdullactSource(ctx: SourceContext<AdullactLauncher>): Promise<Source<AdullactItem>> {
  const { launcher } = ctx;
  const root = resolve(launcher.source);
  const accepts = compileFilenameFilter(launcher.filenameFilter);
  const complete = envelopeCompletion(launcher.afterSuccess, root);
  const quarantineDir = resolveFolder(launcher.quarantineFolder ?? DEFAULT_QUARANTINE_FOLDER, root);
  const moveDir = launcher.afterSuccess.startsWith('move:') ? resolveFolder(launcher.afterSuccess.slice(5), root) : undefined;
  const excluded = new Set([quarantineDir, moveDir].filter((d): d is string => !!d));
  const metadataStem = launcher.metadataFile || DEFAULT_METADATA_STEM;
  /** Listing fingerprint seen by documents(), checked again before the envelope is removed. */
  const fingerprints = new WeakMap<AdullactItem, string>();

  await stat(root).catch((err: NodeJS.ErrnoException) => {
    throw new SourceError(
      err.code === 'ENOENT' ? 'SOURCE_NOT_FOUND' : 'SOURCE_UNREADABLE',
      `launcher ${launcher.id}: source folder ${root} ${err.code === 'ENOENT' ? 'does not exist' : 'cannot be read'} (${err.code})`,
      { cause: err },
    );
  });

  const specOf = (e: EnvelopeLocation): EnvelopeSpec => ({ name: e.name, kind: e.kind, endMarker: launcher.endMarker, metadataStem });
  const readerOf = (e: EnvelopeLocation): EnvelopeReader => (e.kind === 'zip' ? zipReader(e.path, e.name) : folderReader(e.path));

  async function* scan(limit: number): AsyncGenerator<Candidate<AdullactItem>> {
    const now = ctx.now();
    const tracker = new StabilityTracker((ctx.state.observations as Observations) ?? {}, launcher.delaySeconds, now);
    const complete: EnvelopeLocation[] = [];
    for await (const found of discoverEnvelopes(root, { endMarker: launcher.endMarker, tracker, excluded, accepts, filterText: launcher.filenameFilter })) {
      if (found.verdict === 'complete') complete.push(found.envelope);
      else yield found;
    }
    complete.sort((a, b) => a.mtimeMs - b.mtimeMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    let taken = 0;
    for (const envelope of complete) {
      if (taken >= limit) {
        tracker.keep(envelope.name);
        yield { verdict: 'waiting', label: envelope.name, reason: `batch limit of ${limit} reached, taken by a later run` };
        continue;
      }
      const item = await identify(envelope, now);
      if ('reason' in item) {
        yield { verdict: 'waiting', label: envelope.name, reason: item.reason };
        continue;
      }
      taken++;
      yield { verdict: 'ready', label: envelope.name, item };
    }
    ctx.state.observations = tracker.result();
  }

  /** The item of a complete envelope: its key needs the hash of its metadata file. */
  async function identify(envelope: EnvelopeLocation, now: Date): Promise<AdullactItem | { reason: string }> {
    try {
      const hash = await metadataHashOf(readerOf(envelope), specOf(envelope));
      return { key: `${envelope.name}|${hash}`, label: envelope.name, envelope };
    } catch (err) {
      if (!(err instanceof EnvelopeFormatError)) throw err;
      if (err.code === 'ZIP_UNREADABLE' && now.getTime() - envelope.mtimeMs < UNREADABLE_ZIP_GRACE_MS) {
        return { reason: 'zip not readable yet (still being written?)' };
      }
      return { key: `${envelope.name}|unreadable|${envelope.size}|${Math.trunc(envelope.mtimeMs)}`, label: envelope.name, envelope, problem: err.message };
    }
  }

  return {
    concurrency: ADULLACT_CONCURRENCY,
    scan,
    async documents(item): Promise<SourceDocument[]> {
      if (item.problem) throw new ItemRejectedError(item.problem);
      try {
        const content = await readEnvelope(readerOf(item.envelope), specOf(item.envelope));
        if (`${item.envelope.name}|${content.metadataHash}` !== item.key) {
          throw new SourceError('ENVELOPE_CHANGED', `${item.label}: its metadata changed since it was found; taken again by a later run`);
        }
        fingerprints.set(item, content.fingerprint);
        ctx.logger.debug(`envelope "${item.label}" read: ${content.type ?? 'type not recognised'}, ${content.documents.length} documents`, {
          type: content.type,
          documents: content.documents.length,
        });
        return content.documents;
      } catch (err) {
        throw rejectIfMalformed(err);
      }
    },
    async acknowledge(item) {
      const seen = fingerprints.get(item);
      if (seen !== undefined) {
        const now = listingHash(await envelopeFiles(readerOf(item.envelope), launcher.endMarker));
        if (now !== seen) {
          throw new SourceError('ENVELOPE_CHANGED', `${item.label}: files were added or changed after its documents were read; left in place`);
        }
      }
      await complete(item.envelope.path);
    },
    async putAside(item, reason) {
      const moved = await quarantineEnvelope(item.envelope.path, quarantineDir, reason, ctx.now());
      ctx.logger.warn(`envelope "${item.label}" moved to quarantine`, { quarantine: moved, reason });
    },
    close: async () => undefined,
  };
}

/** A broken envelope (malformed XML, entities, bad zip...) is put aside; anything else is retried. */
function rejectIfMalformed(err: unknown): unknown {
  if (err instanceof EnvelopeFormatError) return new ItemRejectedError(err.message, { cause: err });
  if (err instanceof ColdError) return err;
  return new SourceError('ENVELOPE_UNREADABLE', describeError(err), { cause: err });
}
