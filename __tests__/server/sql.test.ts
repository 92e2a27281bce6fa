import { controlsTransaction, lineAtPosition, splitStatements } from '../../lib/server/stack/sql';

describe('lineAtPosition', () => {
  it('maps PostgreSQL\'s 1-based character position to a 1-based line', () => {
    const text = 'select 1;\nselect 2;\n  selec 3;';
    expect(lineAtPosition(text, 1)).toBe(1);
    expect(lineAtPosition(text, 10)).toBe(1); // the newline itself still ends line 1
    expect(lineAtPosition(text, 11)).toBe(2);
    expect(lineAtPosition(text, text.indexOf('selec ') + 1)).toBe(3);
  });

  it('counts characters, not UTF-16 code units, like PostgreSQL', () => {
    // '😀' is one character for PostgreSQL but two code units in JavaScript.
    const text = "select '😀😀😀😀';\nselec 1;";
    const position = [...text].indexOf('\n') + 2;
    expect(lineAtPosition(text, position)).toBe(2);
  });
});

describe('splitStatements', () => {
  it('splits at top-level semicolons and reports the line of each statement\'s first token', () => {
    const statements = splitStatements('-- header\ncreate table a (x int);\n\n/* c; */ insert into a\n  values (1);\nselect 1');
    expect(statements.map((s) => [s.keyword, s.line])).toEqual([['create', 2], ['insert', 4], ['select', 6]]);
  });

  it('keeps semicolons inside quotes, identifiers, comments and dollar quotes', () => {
    const script = [
      "insert into t values ('a;b', E'c\\';d');",
      'select "we;ird" from t;',
      '/* outer /* nested; */ still comment; */ select 2;',
      'create function f() returns int language plpgsql as $body$ begin return 1; end $body$;',
      'select $$x;y$$;',
    ].join('\n');
    expect(splitStatements(script).map((s) => s.line)).toEqual([1, 2, 3, 4, 5]);
  });

  it('does not take a positional parameter or an identifier with $ for a dollar quote', () => {
    expect(splitStatements('prepare p as select $1;\nselect a$b$ from t;\nselect 3;').map((s) => s.line)).toEqual([1, 2, 3]);
  });

  it('keeps BEGIN ATOMIC function bodies (with CASE ... END inside) in one statement', () => {
    const script = 'create function g(x int) returns int language sql\nbegin atomic\n  select case when x > 0 then 1 else 0 end;\n  select 2;\nend;\nselect 3;';
    expect(splitStatements(script).map((s) => [s.keyword, s.line])).toEqual([['create', 1], ['select', 6]]);
  });

  it('flags transaction control statements (but not BEGIN ATOMIC)', () => {
    const [begin, insert, commit] = splitStatements('begin; insert into t values (1); commit;');
    expect([begin, insert, commit].map((s) => controlsTransaction(s!))).toEqual([true, false, true]);
  });
});
