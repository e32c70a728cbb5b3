import { describeError } from '../errors';
import { redact } from './secrets';

/** Fields carried by every line of a logger: launcher id, item key, invocation id... */
export type LogFields = Record<string, unknown>;
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * A structured logger. `child` returns a logger whose lines all carry the given fields,
 * as imapflow's getLogger() does with the connection id.
 */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

/** Where finished lines go: a console, the Functions invocation context, a test array. */
export type LogSink = (level: LogLevel, msg: string, fields: LogFields) => void;

export function createLogger(sink: LogSink, bindings: LogFields = {}): Logger {
  const emit = (level: LogLevel) => (msg: string, fields: LogFields = {}) =>
    sink(level, redact(msg), sanitizeFields({ ...bindings, ...fields }));
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (fields) => createLogger(sink, { ...bindings, ...fields }),
  };
}

/** Errors become their description; every string is redacted. */
function sanitizeFields(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    if (v instanceof Error) out[k] = redact(describeError(v));
    else if (typeof v === 'string') out[k] = redact(v);
    else out[k] = v;
  }
  return out;
}

/** One JSON object per line: what Application Insights and log shippers index best. */
export function jsonLineSink(write: (line: string) => void = (l) => process.stdout.write(l + '\n')): LogSink {
  return (level, msg, fields) => write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }));
}

export const silentLogger: Logger = createLogger(() => undefined);

/** Anything with the four level methods: the Functions InvocationContext, console. */
export interface LevelMethods {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/**
 * Sends each line to `target` as its message followed by the fields as JSON, the form
 * Application Insights keeps whole in a trace's message and that KQL parses with
 * `parse_json(extract('\\{.*\\}', 0, message))`.
 */
export function methodsSink(target: LevelMethods): LogSink {
  return (level, msg, fields) => target[level](Object.keys(fields).length ? `${msg} ${JSON.stringify(fields)}` : msg);
}
