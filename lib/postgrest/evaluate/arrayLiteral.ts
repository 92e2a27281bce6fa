/**
 * PostgreSQL's array literal `{a,"b c",NULL,{1,2}}` read the way array_in reads it: unquoted elements
 * are trimmed and may use `\` escapes, an unquoted NULL (any case) is the NULL element, double quotes
 * keep everything and `\` escapes inside them. Returns undefined for text array_in would reject.
 */
export type ArrayElement = string | null | ArrayElement[];

export function readArrayLiteral(text: string): ArrayElement[] | undefined {
  let pos = 0;
  const skipSpace = () => {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
  };
  const readArray = (): ArrayElement[] | undefined => {
    if (text[pos] !== '{') return undefined;
    pos++;
    const items: ArrayElement[] = [];
    skipSpace();
    if (text[pos] === '}') {
      pos++;
      return items;
    }
    for (;;) {
      skipSpace();
      const item = text[pos] === '{' ? readArray() : readElement();
      if (item === undefined) return undefined;
      items.push(item);
      skipSpace();
      if (text[pos] === ',') pos++;
      else if (text[pos] === '}') {
        pos++;
        return items;
      } else return undefined;
    }
  };
  const readElement = (): string | null | undefined => {
    if (text[pos] === '"') {
      pos++;
      let out = '';
      while (pos < text.length && text[pos] !== '"') {
        if (text[pos] === '\\') pos++;
        if (pos >= text.length) return undefined;
        out += text[pos++];
      }
      if (text[pos] !== '"') return undefined;
      pos++;
      return out;
    }
    let out = '';
    let escaped = false;
    let trailingSpace = '';
    while (pos < text.length && !',}{"'.includes(text[pos]!)) {
      let char = text[pos++]!;
      if (char === '\\') {
        if (pos >= text.length) return undefined;
        char = text[pos++]!;
        escaped = true;
        out += trailingSpace + char;
        trailingSpace = '';
      } else if (/\s/.test(char)) {
        if (out !== '') trailingSpace += char;
      } else {
        out += trailingSpace + char;
        trailingSpace = '';
      }
    }
    if (out === '' && !escaped) return undefined;
    if (!escaped && out.toLowerCase() === 'null') return null;
    return out;
  };
  skipSpace();
  // A leading dimension decoration `[1:2]={…}` is valid SQL but never produced by the builder: rejected.
  const result = readArray();
  skipSpace();
  return pos === text.length ? result : undefined;
}
