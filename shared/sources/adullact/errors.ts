import { ColdError } from '../../errors';

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
  | 'BASE64_INVALID'
  | 'ENVELOPE_EMPTY';

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
