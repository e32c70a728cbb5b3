import { ItemRejectedError } from '../errors';

/**
 * The mail had nothing to file and the launcher says `"withoutAttachments": "skip"`: put
 * aside with the reason. Its own module, free of the MIME parser, so the O365 source (which
 * reads Graph's attachments, not MIME) throws the same error without loading mailparser.
 */
export class NothingToFileError extends ItemRejectedError {
  override readonly code = 'NOTHING_TO_FILE';
}
