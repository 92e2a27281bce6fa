/** Text order and case folding of the C / POSIX collation, the only ones the client can reproduce. */

/** Sign of `a - b` by Unicode code points (= UTF-8 byte order, which C collation compares). */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // UTF-16 puts U+E000–U+FFFF above surrogates (U+10000 and up); code point order does not.
    const surrogateX = x >= 0xd800 && x <= 0xdfff;
    const surrogateY = y >= 0xd800 && y <= 0xdfff;
    if (surrogateX !== surrogateY) return surrogateX ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** C collation's case folding: ASCII letters only. */
export function foldAscii(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/**
 * True for collations that order text by code point: libc's C / POSIX / C.UTF-8, `ucs_basic`, and
 * the builtin provider's `C.UTF-8` (`pg_c_utf8`) and `PG_UNICODE_FAST` (`pg_unicode_fast`).
 */
export function ordersByCodePoint(name: string | undefined): boolean {
  return name !== undefined && /^(c|posix|ucs_basic|c\.utf-?8|pg_c_utf8|pg_unicode_fast)$/i.test(name.replace(/"/g, ''));
}

/**
 * True for collations whose case folding (ilike, imatch) touches ASCII letters only: C / POSIX and
 * `ucs_basic`. The UTF-8 ones above fold every letter Unicode knows a case of.
 */
export function foldsAsciiOnly(name: string | undefined): boolean {
  return name !== undefined && /^(c|posix|ucs_basic)$/i.test(name.replace(/"/g, ''));
}
