/**
 * The few places where EzGED's PHP (PCRE) and JavaScript read a regular expression
 * differently, for file-name filters. JavaScript treats an unknown escape such as `\A`
 * as the letter itself, so a filter written for PCRE would silently match something
 * else: PCRE's anchors are translated, its other escapes refused with the reason.
 */

/** PCRE escapes with a JavaScript equivalent here (names are matched at their start). */
const ANCHORS: Record<string, string> = { A: '^', z: '$', Z: '(?=\\n?$)' };
/**
 * Escapes JavaScript reads as PCRE does (letters; any non-letter escapes itself): `\p{…}`
 * and `\P{…}` (Unicode properties, with the `u` flag) and `\k<name>` (named back
 * references) included.
 */
const SAME_LETTERS = new Set('dDwWsSbBnrtfvcxukpP0123456789'.split(''));

export class PcreTranslationError extends Error {}

/**
 * Translates a PCRE pattern body to JavaScript. `extended`: PCRE's `x` flag (whitespace
 * and `# comments` outside character classes are ignored), which JavaScript lacks.
 */
export function pcreToJs(body: string, extended: boolean): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === '\\') {
      const next = body[i + 1];
      if (next === undefined) throw new PcreTranslationError('the pattern ends with a lone backslash');
      i++;
      if (!/[A-Za-z]/.test(next) || SAME_LETTERS.has(next)) {
        out += `\\${next}`;
      } else if (!inClass && ANCHORS[next]) {
        out += ANCHORS[next];
      } else {
        throw new PcreTranslationError(`the escape \\${next} is not supported (it would be read as the letter "${next}")`);
      }
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      out += ch;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      out += ch;
      if (body[i + 1] === '^') out += body[++i];
      if (body[i + 1] === ']') out += body[++i]; // a leading ] is a literal in PCRE
      continue;
    }
    if (extended && /\s/.test(ch)) continue;
    if (extended && ch === '#') {
      while (i + 1 < body.length && body[i + 1] !== '\n') i++;
      continue;
    }
    out += ch;
  }
  return out;
}
