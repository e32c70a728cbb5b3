import picomatch from 'picomatch';
import { PcreTranslationError, pcreToJs } from './pcre';

/** Decides whether a file name is taken. */
export type FilenameFilter = (name: string) => boolean;

const REGEX_FORM = /^\/(.*)\/([A-Za-z]*)$/s;
/** PCRE flags with a meaning here: i (case), m (lines), s (dot matches newline), x (extended), u (Unicode). */
const ALLOWED_REGEX_FLAGS = /^[imsux]*$/;

/**
 * Compiles an EzGED file-name filter.
 * - `/regex/` (optionally followed by flags i, m, s, u, x): a regular expression matched
 *   from the start of the name, not necessarily to its end, as EzGED (PHP PCRE) does;
 *   `(?i)` at the start is accepted as the case-insensitive flag; PCRE's anchors `\A`,
 *   `\z`, `\Z` and its `x` flag are translated, other PCRE-only escapes refused (pcre.ts).
 * - anything else: a glob (`*.pdf`, `facture_*.{pdf,tif}`, `**` = everything), case-insensitive.
 * - absent or empty: everything.
 * Throws an Error whose message says why the filter is invalid.
 */
export function compileFilenameFilter(filter: string | undefined): FilenameFilter {
  if (filter === undefined || filter.trim() === '' || filter === '**' || filter === '*') return () => true;
  const m = REGEX_FORM.exec(filter);
  if (m) {
    let [, body, flags] = m as unknown as [string, string, string];
    if (!ALLOWED_REGEX_FLAGS.test(flags)) throw new Error(`unsupported regular expression flags "${flags}" (supported: i, m, s, u, x)`);
    if (body.startsWith('(?i)')) {
      body = body.slice(4);
      flags += 'i';
    }
    // PCRE's x (extended) is applied by the translation; u and s exist in both.
    const jsFlags = [...new Set(flags.replace('x', ''))].join('') + 'y';
    let re: RegExp;
    try {
      re = new RegExp(`(?:${pcreToJs(body, { extended: flags.includes('x'), unicode: flags.includes('u') })})`, jsFlags);
    } catch (err) {
      if (err instanceof PcreTranslationError) throw new Error(`invalid regular expression: ${err.message}`);
      throw new Error(`invalid regular expression: ${(err as Error).message.replace(/^Invalid regular expression: .*\/[a-z]*: /, '')}`);
    }
    return (name) => {
      re.lastIndex = 0;
      return re.test(name);
    };
  }
  const isMatch = picomatch(filter, { nocase: true, dot: true });
  return (name) => isMatch(name);
}
