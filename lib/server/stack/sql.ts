/**
 * Locating SQL errors in their source text. PostgreSQL reports an error `position` (a 1-based
 * character offset into the query string) for parse errors and many analysis errors; for the rest
 * (constraint violations, errors raised at run time) we find the failing statement ourselves.
 */

/** One statement of a script: its text (with leading comments) and where its first token is. */
export interface SqlStatement {
  text: string;
  /** Line of the first character of `text` (1-based). */
  startLine: number;
  /** Line of the statement's first token (1-based). */
  line: number;
  /** Lower-cased first word ('create', 'insert', 'begin' ...). */
  keyword: string;
}

/** The 1-based line of PostgreSQL's 1-based character `position` in `text`. */
export function lineAtPosition(text: string, position: number): number {
  let line = 1;
  let index = 0;
  // PostgreSQL counts characters (code points), not UTF-16 code units.
  for (const char of text) {
    index++;
    if (index >= position) break;
    if (char === '\n') line++;
  }
  return line;
}

/**
 * Splits a script into statements at top-level semicolons, skipping quotes, dollar quotes,
 * comments and `BEGIN ATOMIC ... END` bodies. Used only to explain errors, never to run a file.
 */
export function splitStatements(script: string): SqlStatement[] {
  const statements: SqlStatement[] = [];
  let start = 0;
  let line = 1;
  let startLine = 1;
  let firstTokenLine = 0;
  let keyword = '';
  let previousWord = '';
  let atomicDepth = 0;
  let i = 0;

  const finish = (end: number) => {
    const text = script.slice(start, end);
    if (keyword !== '') statements.push({ text, startLine, line: firstTokenLine, keyword });
    start = end;
    startLine = line;
    firstTokenLine = 0;
    keyword = '';
    previousWord = '';
  };
  const markToken = () => {
    if (firstTokenLine === 0) firstTokenLine = line;
  };
  const skipTo = (end: number) => {
    for (let j = i; j < end; j++) if (script[j] === '\n') line++;
    i = end;
  };

  while (i < script.length) {
    const char = script[i]!;
    const next = script[i + 1];
    if (char === '\n') {
      line++;
      i++;
    } else if (char === '-' && next === '-') {
      const end = script.indexOf('\n', i);
      skipTo(end === -1 ? script.length : end);
    } else if (char === '/' && next === '*') {
      skipTo(endOfBlockComment(script, i));
    } else if (char === "'" || char === '"') {
      markToken();
      const escapes = char === "'" && /[eE]/.test(script[i - 1] ?? '') && !/[\w$]/.test(script[i - 2] ?? '');
      skipTo(endOfQuoted(script, i, char, escapes));
    } else if (char === '$' && !/[\w$]/.test(script[i - 1] ?? '') && /^\$(?:[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/.test(script.slice(i, i + 64))) {
      markToken();
      const tag = /^\$(?:[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/.exec(script.slice(i, i + 64))![0];
      const end = script.indexOf(tag, i + tag.length);
      skipTo(end === -1 ? script.length : end + tag.length);
    } else if (/[A-Za-z_\u0080-\uffff]/.test(char)) {
      markToken();
      let end = i + 1;
      while (end < script.length && /[\w$\u0080-\uffff]/.test(script[end]!)) end++;
      const word = script.slice(i, end).toLowerCase();
      if (keyword === '') keyword = word;
      // SQL-standard function bodies contain semicolons; CASE ... END nests inside them.
      if (word === 'atomic' && previousWord === 'begin') atomicDepth++;
      else if (atomicDepth > 0 && word === 'case') atomicDepth++;
      else if (atomicDepth > 0 && word === 'end') atomicDepth--;
      previousWord = word;
      i = end;
    } else if (char === ';' && atomicDepth === 0) {
      i++;
      finish(i);
    } else {
      if (!/\s/.test(char)) markToken();
      i++;
    }
  }
  finish(script.length);
  return statements;
}

/** True for statements that would end or start a transaction when run one by one. */
export function controlsTransaction(statement: SqlStatement): boolean {
  return ['begin', 'start', 'commit', 'end', 'rollback', 'abort', 'savepoint', 'release', 'prepare'].includes(statement.keyword)
    && !/^\s*begin\s+atomic\b/i.test(statement.text.trim());
}

function endOfBlockComment(script: string, from: number): number {
  let depth = 0;
  let i = from;
  while (i < script.length) {
    if (script.startsWith('/*', i)) {
      depth++;
      i += 2;
    } else if (script.startsWith('*/', i)) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  return script.length;
}

function endOfQuoted(script: string, from: number, quote: string, backslashEscapes: boolean): number {
  let i = from + 1;
  while (i < script.length) {
    const char = script[i];
    if (backslashEscapes && char === '\\') i += 2;
    else if (char === quote && script[i + 1] === quote) i += 2;
    else if (char === quote) return i + 1;
    else i++;
  }
  return script.length;
}
