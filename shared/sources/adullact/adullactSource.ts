import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { LauncherOf } from '../../config/schema';
import { ItemRejectedError, SourceError } from '../../errors';
import { compileFilenameFilter } from '../../routing/filenameFilter';
import { resolveFolder } from '../folder/afterSuccess';
import { StabilityTracker, type Observations } from '../folder/stability';
import type { Candidate, Source, SourceContext, SourceDocument, SourceItem } from '../types';
import { envelopeCompletion, quarantineEnvelope } from './completion';
import { discoverEnvelopes, type EnvelopeLocation } from './discovery';
import { envelopeFiles, envelopeIdentity, incompleteReason, listingHash, readEnvelope, type EnvelopeIdentity, type EnvelopeSpec } from './envelope';
import { folderReader, type EnvelopeReader } from './envelopeReader';
import { EnvelopeFormatError, EnvelopeIncompleteError, describeReadError } from './errors';
import { HeldReaders } from './heldReaders';
import { DEFAULT_METADATA_STEM } from './metadata';
import { describeMissing } from './missingFiles';
import { rejectIfMalformed, rejectingDocument } from './rejection';
import { sweepStaleSpoolsOnce } from './spoolFolder';
import { zipReader } from './zipReader';

/** Default quarantine, inside the source (hidden, so never scanned). */
export const DEFAULT_QUARANTINE_FOLDER = '.adullact-quarantine';
/** Envelopes worked on at once (each may stream a large PES). */
export const ADULLACT_CONCURRENCY = 2;
/** A zip that cannot be read yet is waited for this long after its last change (still being copied?). */
export const UNREADABLE_ZIP_GRACE_MS = 60_000;
/**
 * An envelope whose metadata names files it does not hold waits at least this long after
 * its last change (or `delaySeconds`, if longer) for them, then is put aside.
 */
export const INCOMPLETE_ENVELOPE_GRACE_MS = 60_000;
/**
 * Envelopes whose readers (a zip's temp files) are kept at most: those being staged, and
 * one more. Beyond, the one idle longest is released (see HeldReaders).
 */
export const HELD_READERS = ADULLACT_CONCURRENCY + 1;

export interface AdullactItem extends SourceItem {
  envelope: EnvelopeLocation;
  /** Why the envelope cannot be read at all (found while scanning): put aside by documents(). */
  problem?: string;
}

type AdullactLauncher = LauncherOf<'adullact'>;

/** How the source reaches the files of an envelope. */
export interface AdullactSourceOptions {
  /** Opens an envelope's files (default: a folder reader, or a zip reader using `tmpRoot`; tests inject read faults). */
  openReader?: (envelope: EnvelopeLocation) => EnvelopeReader;
  /** Where zip readers keep their temp files, swept of a crashed process's leftovers (default: the OS temp folder). */
  tmpRoot?: string;
}

/**
 * The Adullact launcher's source: the folder where a Pastell dépôt connector writes one
 * folder or one `.zip` per document. Each complete envelope is one item; its documents
 * are its files, the PES pièces justificatives, and a JSON index of what was decoded,
 * all grouped by the envelope type (`acte_nature`, `helios`, `chorus_fact`).
 * Item key: envelope name + hash of its metadata file, so a different envelope deposited
 * again under the same name is a new item.
 */
export async function createAdullactSource(ctx: SourceContext<AdullactLauncher>, options: AdullactSourceOptions = {}): Promise<Source<AdullactItem>> {
  const { launcher } = ctx;
  const { tmpRoot } = options;
  const readerOf = options.openReader ?? ((e: EnvelopeLocation): EnvelopeReader => (e.kind === 'zip' ? zipReader(e.path, e.name, { tmpRoot }) : folderReader(e.path)));
  const incompleteGraceMs = Math.max(INCOMPLETE_ENVELOPE_GRACE_MS, launcher.delaySeconds * 1000);
  const root = resolve(launcher.source);
  const accepts = compileFilenameFilter(launcher.filenameFilter);
  const complete = envelopeCompletion(launcher.afterSuccess, root);
  const quarantineDir = resolveFolder(launcher.quarantineFolder ?? DEFAULT_QUARANTINE_FOLDER, root);
  const moveDir = launcher.afterSuccess.startsWith('move:') ? resolveFolder(launcher.afterSuccess.slice(5), root) : undefined;
  const excluded = new Set([quarantineDir, moveDir].filter((d): d is string => !!d));
  const metadataStem = launcher.metadataFile || DEFAULT_METADATA_STEM;
  /** Listing fingerprint seen by documents(), checked again before the envelope is removed. */
  const fingerprints = new WeakMap<AdullactItem, string>();
  /** Readers of the envelopes whose documents were given out, until done with. */
  const held = new HeldReaders(HELD_READERS);

  await stat(root).catch((err: NodeJS.ErrnoException) => {
    throw new SourceError(
      err.code === 'ENOENT' ? 'SOURCE_NOT_FOUND' : 'SOURCE_UNREADABLE',
      `launcher ${launcher.id}: source folder ${root} ${err.code === 'ENOENT' ? 'does not exist' : 'cannot be read'} (${err.code})`,
      { cause: err },
    );
  });

  // temp files of zip envelopes a killed process could not remove
  await sweepStaleSpoolsOnce(tmpRoot);

  const specOf = (e: EnvelopeLocation): EnvelopeSpec => ({ name: e.name, kind: e.kind, endMarker: launcher.endMarker, metadataStem });

  async function* scan(limit: number): AsyncGenerator<Candidate<AdullactItem>> {
    const now = ctx.now();
    const tracker = new StabilityTracker((ctx.state.observations as Observations) ?? {}, launcher.delaySeconds, now);
    const complete: EnvelopeLocation[] = [];
    for await (const found of discoverEnvelopes(root, { endMarker: launcher.endMarker, requireEndMarker: launcher.requireEndMarker, tracker, excluded, accepts, filterText: launcher.filenameFilter })) {
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
        tracker.keep(envelope.name);
        yield { verdict: 'waiting', label: envelope.name, reason: item.reason };
        continue;
      }
      taken++;
      yield { verdict: 'ready', label: envelope.name, item };
    }
    ctx.state.observations = tracker.result();
  }

  /**
   * The item of a complete envelope: its key needs the hash of its metadata file. An
   * envelope that cannot be read now (EACCES, EBUSY, a share timing out...) waits for a
   * later run, with a warning, and the scan goes on with the others; one that is broken
   * (format error) or still lacks files its metadata names after the grace is taken to
   * be put aside with the reason.
   */
  async function identify(envelope: EnvelopeLocation, now: Date): Promise<AdullactItem | { reason: string }> {
    const age = now.getTime() - envelope.mtimeMs;
    let identity: EnvelopeIdentity;
    try {
      identity = await envelopeIdentity(readerOf(envelope), specOf(envelope));
    } catch (err) {
      if (!(err instanceof EnvelopeFormatError)) {
        const reason = `cannot be read now, tried again by the next run: ${describeReadError(err)}`;
        ctx.logger.warn(`envelope "${envelope.name}" ${reason}`, { envelope: envelope.name, err });
        return { reason };
      }
      if (err.code === 'ZIP_UNREADABLE' && age < UNREADABLE_ZIP_GRACE_MS) {
        return { reason: 'zip not readable yet (still being written?)' };
      }
      return { key: `${envelope.name}|unreadable|${envelope.size}|${Math.trunc(envelope.mtimeMs)}`, label: envelope.name, envelope, problem: err.message };
    }
    const item: AdullactItem = { key: `${envelope.name}|${identity.hash}`, label: envelope.name, envelope };
    if (identity.missing.length === 0) return item;
    if (age < incompleteGraceMs) {
      return { reason: `its metadata names files not there yet: ${describeMissing(identity.missing)}; put aside if still missing ${Math.round(incompleteGraceMs / 1000)} s after its last change` };
    }
    return { ...item, problem: incompleteReason(envelope, identity.missing) };
  }

  return {
    concurrency: ADULLACT_CONCURRENCY,
    scan,
    async documents(item): Promise<SourceDocument[]> {
      if (item.problem) throw new ItemRejectedError(item.problem);
      const reader = readerOf(item.envelope);
      if (reader.close) await held.hold(item.key, reader);
      try {
        const content = await readEnvelope(reader, specOf(item.envelope));
        if (`${item.envelope.name}|${content.metadataHash}` !== item.key) {
          throw new SourceError('ENVELOPE_CHANGED', `${item.label}: its metadata changed since it was found; taken again by a later run`);
        }
        fingerprints.set(item, content.fingerprint);
        ctx.logger.debug(`envelope "${item.label}" read: ${content.type ?? 'type not recognised'}, ${content.documents.length} documents`, {
          type: content.type,
          documents: content.documents.length,
        });
        return held.follow(item.key, content.documents.map(rejectingDocument));
      } catch (err) {
        await held.release(item.key);
        if (err instanceof EnvelopeIncompleteError) {
          // complete when it was found: files vanished since; the next scan decides (grace, then quarantine)
          throw new SourceError('ENVELOPE_CHANGED', `${item.label}: files named by its metadata vanished since it was found (${err.missing.join(', ')}); taken again by a later run`, { cause: err });
        }
        throw rejectIfMalformed(err);
      }
    },
    async acknowledge(item) {
      await held.release(item.key);
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
      await held.release(item.key);
      const moved = await quarantineEnvelope(item.envelope.path, quarantineDir, reason, ctx.now());
      ctx.logger.warn(`envelope "${item.label}" moved to quarantine`, { quarantine: moved, reason });
    },
    close: () => held.releaseAll(),
  };
}
