/** What to stage of a mail without any attachment. */
export type WithoutAttachments = 'skip' | 'eml' | 'body';

/** Which parts of a mail become documents (the launcher fields of IMAP, POP3 and O365). */
export interface MailDocumentOptions {
  /** Embedded images (signatures, logos) count as documents too. */
  includeInline: boolean;
  withoutAttachments: WithoutAttachments;
  /** Stage the whole message as `.eml` besides its attachments. */
  wholeMessage: boolean;
  /** An attached mail is staged as `.eml`; with this, its own attachments too. */
  unpackAttachedMessages: boolean;
  /**
   * The launcher's file-name filter (see shared/routing/filenameFilter.ts), applied to the
   * name of each attachment and attached mail; absent: every one is taken.
   */
  filenameFilter?: string;
}

export const DEFAULT_MAIL_DOCUMENT_OPTIONS: Readonly<MailDocumentOptions> = {
  includeInline: false,
  withoutAttachments: 'skip',
  wholeMessage: false,
  unpackAttachedMessages: false,
};

/** Depth of attached mails unpacked at most (a mail in a mail in a mail). */
export const MAX_UNPACK_DEPTH = 3;
/** Longest mail header value kept as a document fact (blob metadata). */
export const MAX_FACT_LENGTH = 256;
