/**
 * Typed errors. Every error the product raises on purpose carries a stable `code`
 * and, where there is one, the underlying `cause`. Callers branch on the class or the
 * code, never on the message. Messages never contain secret values.
 */
export class ColdError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** One problem of a launcher definition, already located: `launchers[12].port`. */
export interface ConfigProblem {
  path: string;
  message: string;
}

/** The launcher definitions are not usable: every problem is listed. */
export class ConfigError extends ColdError {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[], source = 'launcher definitions') {
    super(
      'CONFIG_INVALID',
      `${source}: ${problems.length} problem${problems.length > 1 ? 's' : ''}\n` +
        problems.map((p) => `  ${p.path}: ${p.message}`).join('\n'),
    );
    this.problems = problems;
  }
}

/** A source item that can never be taken as it is (malformed mail, unreadable file...). */
export class ItemRejectedError extends ColdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ITEM_REJECTED', message, options);
  }
}

/** Reaching or reading a source failed (connection, permissions, missing folder). */
export class SourceError extends ColdError {}

/**
 * The source itself became unreachable during the run (connection lost): the remaining
 * items of the batch are not tried on a dead connection, and none of them is blamed.
 */
export class SourceUnavailableError extends SourceError {}

/**
 * Delivery to EzGED failed. `transient` says whether trying again may succeed;
 * `targetDown` that EzGED as a whole is unreachable (the document is not at fault, so
 * the failure does not count against the document's attempts).
 */
export class DeliveryError extends ColdError {
  readonly transient: boolean;
  readonly targetDown: boolean;
  constructor(code: string, message: string, transient: boolean, options?: { cause?: unknown; targetDown?: boolean }) {
    super(code, message, options);
    this.transient = transient;
    this.targetDown = transient && (options?.targetDown ?? false);
  }
}

/** A short, single-line description of any thrown value, safe to log. */
export function describeError(err: unknown): string {
  if (err instanceof ColdError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
