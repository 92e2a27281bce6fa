/**
 * LIKE patterns and POSIX regular expressions as JavaScript RegExps. LIKE translates exactly; a
 * regular expression only when every construct in it means the same in both dialects, otherwise the
 * translation is refused with a reason. Case-insensitive forms fold ASCII letters only (the C
 * collation's folding): the caller folds the subject with `foldAscii`.
 */
import { foldAscii } from './textOrder.js';

/** ARE character-entry escapes with the same meaning everywhere (`\b` is backspace in ARE). */
const CHARACTER_ENTRY: Readonly<Record<string, string>> = {
  a: '\\x07', b: '\\x08', e: '\\x1b', f: '\\f', n: '\\n', r: '\\r', t: '\\t', v: '\\v',
};

export type Translation = { ok: true; regex: RegExp } | { ok: false; reason: string };

/** A literal character outside a character class (`u` mode allows escaping only syntax characters). */
const escapeChar = (char: string) => (/[\\^$.*+?()[\]{}|/]/.test(char) ? `\\${char}` : char);

/** A literal character inside a character class. */
const escapeClassChar = (char: string) => (/[\\\]\[^-]/.test(char) ? `\\${char}` : char);

/** LIKE (PostgREST already turned `*` into `%`): `%` any run, `_` one character, `\` escapes. */
export function likeToRegExp(pattern: string, fold: boolean): Translation {
  let out = '';
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i]!;
    if (char === '\\') {
      const next = chars[++i];
      if (next === undefined) return { ok: false, reason: 'LIKE pattern ends with the escape character' };
      out += escapeChar(fold ? foldAscii(next) : next);
    } else if (char === '%') out += '[^]*';
    else if (char === '_') out += '[^]';
    else out += escapeChar(fold ? foldAscii(char) : char);
  }
  return { ok: true, regex: new RegExp(`^${out}$`, 'u') };
}

/**
 * A POSIX (ARE) regular expression with only: literals, `.`, anchors `^ $`, groups `( )`, `|`,
 * quantifiers `* + ? {m} {m,} {m,n}` (also lazy), bracket expressions of characters and ranges, and
 * `\` before a punctuation character, and character-entry escapes (`\n`, `\t`, `\uXXXX` …).
 * Classes (`[[:alpha:]]`, `\d`, `\w`), back references, constraint escapes (`\m`, `\y`), embedded
 * options and look-arounds are refused: they depend on the locale or differ between dialects.
 */
export function posixToRegExp(pattern: string, fold: boolean): Translation {
  const refuse = (what: string): Translation => ({ ok: false, reason: `regular expression ${JSON.stringify(pattern)}: ${what} is not translated to JavaScript` });
  const chars = [...pattern];
  const literal = (char: string) => escapeChar(fold ? foldAscii(char) : char);
  if (pattern.startsWith('***')) return refuse('a director (***)');
  let out = '';
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i]!;
    switch (char) {
      case '\\': {
        const next = chars[++i];
        if (next === undefined) return refuse('a trailing backslash');
        const entry = CHARACTER_ENTRY[next];
        if (entry !== undefined) {
          out += entry;
          break;
        }
        if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(chars.slice(i + 1, i + 5).join(''))) {
          out += `\\u{${chars.slice(i + 1, i + 5).join('')}}`;
          i += 4;
          break;
        }
        if (/[\p{L}\p{N}]/u.test(next)) return refuse(`the escape \\${next}`);
        out += literal(next);
        break;
      }
      case '(':
        if (chars[i + 1] === '?') return refuse('(?…)');
        out += '(?:';
        break;
      case '{': {
        const close = chars.indexOf('}', i);
        const body = close === -1 ? '' : chars.slice(i + 1, close).join('');
        if (!/^\d+(,\d*)?$/.test(body)) return refuse('a brace that is not a bound');
        out += `{${body}}`;
        i = close;
        break;
      }
      case '[': {
        const bracket = readBracket(chars, i, fold);
        if (typeof bracket === 'string') return refuse(bracket);
        out += bracket.text;
        i = bracket.end;
        break;
      }
      case ')': case '.': case '^': case '$': case '|': case '*': case '+': case '?':
        out += char === '.' ? '[^]' : char;
        break;
      default:
        out += literal(char);
    }
  }
  try {
    return { ok: true, regex: new RegExp(out, 'u') };
  } catch (error) {
    return refuse(`a construct JavaScript rejects (${(error as Error).message})`);
  }
}

/** A bracket expression starting at `start` (`[`), as JS text; or why it is refused. */
function readBracket(chars: string[], start: number, fold: boolean): { text: string; end: number } | string {
  let i = start + 1;
  let out = '[';
  if (chars[i] === '^') {
    out += '^';
    i++;
  }
  let first = true;
  for (; i < chars.length; i++, first = false) {
    const char = fold ? foldAscii(chars[i]!) : chars[i]!;
    if (char === ']' && !first) return { text: `${out}]`, end: i };
    if (char === '[' && /[:.=]/.test(chars[i + 1] ?? '')) return 'a character class or collating element';
    if (char === '\\') return 'a backslash in a bracket expression';
    if (chars[i + 1] === '-' && chars[i + 2] !== undefined && chars[i + 2] !== ']') {
      const end = fold ? foldAscii(chars[i + 2]!) : chars[i + 2]!;
      if (end === '[' || end === '\\') return 'a range ending in [ or \\';
      const lettersBoth = /[a-z]/.test(char) && /[a-z]/.test(end);
      // Folded, a range must stay within letters or within non-letters to mean the same.
      if (fold && !lettersBoth && (/[a-zA-Z]/.test(char) || /[a-zA-Z]/.test(end) || (char < 'A' && end > 'z'))) return 'a case-insensitive range mixing letters and other characters';
      out += `${escapeClassChar(char)}-${escapeClassChar(end)}`;
      i += 2;
      continue;
    }
    out += escapeClassChar(char);
  }
  return 'an unclosed bracket expression';
}
