import { ColdError, describeError } from '../../errors';

/** Codes of the ways an envelope can be unusable as it is. */
export type EnvelopeFormatCode =
  | 'XML_MALFORMED'
  | 'XML_ENTITY_DECLARATION'
  | 'XML_TOO_LARGE'
  | 'XML_ENCODING'
  | 'XML_UNEXPECTED_MARKUP'
  | 'METADATA_MALFORMED'
  | 'METADATA_TOO_LARGE'
  | 'ZIP_UNREADABLE'
  | 'ZIP_ENTRY_CORRUPT'
  | 'BASE64_INVALID'
  | 'PJ_CORRUPT'
  | 'ENVELOPE_EMPTY'
  | 'ENVELOPE_INCOMPLETE';

/**
 * Something in an envelope breaks a rule (malformed XML, entity declarations, an
 * unreadable zip...). The source turns it into an ItemRejectedError, so the envelope is
 * put aside in quarantine with this message; the other envelopes go on.
 */
export class EnvelopeFormatError extends ColdError {
  declare readonly code: EnvelopeFormatCode;
  constructor(code: EnvelopeFormatCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The metadata names files the envelope does not hold (yet): `missing` says which. */
export class EnvelopeIncompleteError extends EnvelopeFormatError {
  declare readonly code: 'ENVELOPE_INCOMPLETE';
  constructor(
    message: string,
    readonly missing: readonly string[],
  ) {
    super('ENVELOPE_INCOMPLETE', message);
  }
}

/**
 * One line about an error reading an envelope: the product's `CODE: message`, or Node's
 * message, which already names its errno (`EACCES: permission denied, open '…'`).
 */
export function describeReadError(err: unknown): string {
  if (err instanceof ColdError || !(err instanceof Error)) return describeError(err);
  const code = (err as NodeJS.ErrnoException).code;
  return code && !err.message.includes(String(code)) ? `${code}: ${err.message}` : err.message;
}
