/**
 * The secret values resolved from settings during this process's life. The loggers
 * and error formatters pass every text through `redact` so that a secret never leaks,
 * even when a library puts it in an error message.
 */
const MIN_SECRET_LENGTH = 4;
const secrets = new Set<string>();

export function registerSecret(value: string): void {
  if (value.length >= MIN_SECRET_LENGTH) secrets.add(value);
}

export function redact(text: string): string {
  let out = text;
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join('***');
  }
  return out;
}
