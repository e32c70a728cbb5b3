import { PassThrough, type Readable } from 'node:stream';
import { ColdError, ItemRejectedError, SourceError, describeError } from '../../errors';
import type { SourceDocument } from '../types';
import { EnvelopeFormatError } from './errors';

/** A broken envelope (malformed XML, entities, bad zip...) is put aside; anything else is retried. */
export function rejectIfMalformed(err: unknown): Error {
  if (err instanceof EnvelopeFormatError) return new ItemRejectedError(err.message, { cause: err });
  if (err instanceof ColdError) return err;
  return new SourceError('ENVELOPE_UNREADABLE', describeError(err), { cause: err });
}

/**
 * The same stream, whose error, if any, is turned by rejectIfMalformed: a file found
 * corrupt while it is staged (a zip entry that does not inflate) puts the envelope
 * aside instead of failing every run.
 */
function rejectingStream(stream: Readable): Readable {
  const out = new PassThrough();
  stream.on('error', (err) => out.destroy(rejectIfMalformed(err)));
  out.once('close', () => {
    stream.unpipe(out);
    if (!stream.destroyed) stream.destroy();
  });
  stream.pipe(out);
  return out;
}

/** The document, whose opening and stream errors are turned by rejectIfMalformed. */
export function rejectingDocument(doc: SourceDocument): SourceDocument {
  return {
    ...doc,
    async open() {
      try {
        return rejectingStream(await doc.open());
      } catch (err) {
        throw rejectIfMalformed(err);
      }
    },
  };
}
