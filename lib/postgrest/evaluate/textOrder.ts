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

/** True for collation names that order by bytes. */
export function isBytewiseCollation(name: string | undefined): boolean {
  return name !== undefined && /^(c|posix|ucs_basic)$/i.test(name.replace(/"/g, ''));
}
