/**
 * The places where EzGED's PHP (PCRE) and JavaScript read a regular expression
 * differently, for file-name filters. JavaScript treats an unknown escape such as `\A`
 * as the letter itself, so a filter written for PCRE would silently match something
 * else: what has an exact JavaScript equivalent is translated, the rest refused with the
 * reason. Never silently read another way.
 */

/** PCRE's absolute anchors, exact whatever the `m` flag. */
const ANCHORS: Record<string, string> = { A: '(?<![\\s\\S])', z: '(?![\\s\\S])', Z: '(?=\\n?(?![\\s\\S]))' };
/** PCRE's \v is any vertical space (JavaScript's only the vertical tab). */
const VERTICAL_SPACE = '\\n\\x0B\\f\\r\\x85\\u2028\\u2029';
/** Escape letters JavaScript reads exactly as PCRE does (any non-letter escapes itself). */
const SAME_LETTERS = new Set('dDwWsSbBnrtfc0123456789'.split(''));
/** POSIX classes inside brackets (`[[:digit:]]`), in ASCII as PCRE reads them without `u`. */
const POSIX_CLASSES: Record<string, string> = {
  alpha: 'a-zA-Z', digit: '0-9', alnum: 'a-zA-Z0-9', upper: 'A-Z', lower: 'a-z', space: '\\s',
  xdigit: '0-9A-Fa-f', word: '\\w', blank: ' \\t',
};

export class PcreTranslationError extends Error {}

export interface PcreOptions {
  /** PCRE's `x` flag: whitespace and `# comments` outside classes are ignored. */
  extended: boolean;
  /** The `u` flag: `\p{…}`, `\P{…}` are then read as PCRE reads them. */
  unicode: boolean;
}

/** Translates a PCRE pattern body to JavaScript, or throws PcreTranslationError saying why. */
export function pcreToJs(body: string, opts: PcreOptions): string {
  const hasNamedGroups = /\(\?(P?<)[A-Za-z_]/.test(body);
  let out = '';
  let inClass = false;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === '\\') {
      const next = body[i + 1];
      if (next === undefined) throw new PcreTranslationError('the pattern ends with a lone backslash');
      i++;
      if (!/[A-Za-z]/.test(next) || SAME_LETTERS.has(next)) out += `\\${next}`;
      else if (next === 'x') {
        const hex = /^[0-9A-Fa-f]{2}/.exec(body.slice(i + 1));
        if (!hex) throw new PcreTranslationError('write \\x with exactly two hex digits (\\xE9); \\x{…} and one digit are read differently here');
        out += `\\x${hex[0]}`;
        i += 2;
      } else if (next === 'v') out += inClass ? VERTICAL_SPACE : `[${VERTICAL_SPACE}]`;
      else if (!inClass && ANCHORS[next]) out += ANCHORS[next];
      else if ((next === 'p' || next === 'P') && opts.unicode && body[i + 1] === '{') out += `\\${next}`;
      else if (next === 'p' || next === 'P') throw new PcreTranslationError(`\\${next} needs the u flag and braces here (/\\${next}{Lu}…/u)`);
      else if (next === 'k' && hasNamedGroups && body[i + 1] === '<') out += '\\k';
      else throw new PcreTranslationError(`the escape \\${next} is not supported (it would be read as the letter "${next}")`);
      continue;
    }
    if (inClass) {
      if (ch === '[' && /^[:.=]/.test(body.slice(i + 1))) {
        const posix = /^\[:(\^?)([a-z]+):\]/.exec(body.slice(i));
        if (!posix || posix[1] || !POSIX_CLASSES[posix[2]!]) throw new PcreTranslationError(`the class ${body.slice(i).split(']')[0]}] is not supported (supported: ${Object.keys(POSIX_CLASSES).map((c) => `[:${c}:]`).join(' ')})`);
        out += POSIX_CLASSES[posix[2]!];
        i += posix[0].length - 1;
        continue;
      }
      if (ch === ']') inClass = false;
      out += ch;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      out += ch;
      if (body[i + 1] === '^') out += body[++i];
      if (body[i + 1] === ']') out += `\\${body[++i]}`; // a leading ] is a literal in PCRE
      continue;
    }
    if (opts.extended && /\s/.test(ch)) continue;
    if (opts.extended && ch === '#') {
      while (i + 1 < body.length && body[i + 1] !== '\n') i++;
      continue;
    }
    if (ch === '(' && body[i + 1] === '?') {
      const construct = /^\(\?(>|#|[imsxU-]+[):])/.exec(body.slice(i));
      if (construct) throw new PcreTranslationError(`${construct[0]}… is not supported here (atomic groups, comments and inline flags: put flags after the closing slash)`);
    }
    if ((ch === '+' || ch === '*' || ch === '?' || ch === '}') && body[i + 1] === '+') {
      throw new PcreTranslationError(`the possessive quantifier ${ch}+ is not supported`);
    }
    out += ch;
  }
  return out;
}
