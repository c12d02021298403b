// "-- expect: …" comments above a statement make it a check: `0`, `empty`, `rows = 3`, `rows > 0`, `'text'`.
export type Expectation =
  | { readonly kind: 'value'; readonly value: string; readonly text: string }
  | { readonly kind: 'empty'; readonly text: string }
  | {
      readonly kind: 'rows';
      readonly op: '=' | '!=' | '<' | '<=' | '>' | '>=';
      readonly count: number;
      readonly text: string;
    };

export interface QueryOutcome {
  readonly rows: readonly Record<string, unknown>[];
  readonly fields: readonly string[];
}

export interface CheckOutcome {
  readonly ok: boolean;
  readonly actual: string;
}

const EXPECT = /^\s*--\s*expect:\s*(.+?)\s*$/i;

/** The expectation in the comment lines just above a statement (the text between it and the previous one). */
export function expectationIn(gap: string): Expectation | { error: string } | undefined {
  if (!/expect/i.test(gap)) return undefined; // the common case, without splitting the gap into lines
  const lines = gap
    .split('\n')
    .map((l) => EXPECT.exec(l))
    .filter((m): m is RegExpExecArray => m !== null);
  const last = lines.at(-1);
  return last ? parseExpectation(last[1]!) : undefined;
}

export function parseExpectation(text: string): Expectation | { error: string } {
  if (/^empty$/i.test(text)) return { kind: 'empty', text };
  const rows = /^rows\s*(=|!=|<>|<=|>=|<|>)\s*(\d+)$/i.exec(text);
  if (rows)
    return {
      kind: 'rows',
      op: (rows[1] === '<>' ? '!=' : rows[1]) as Extract<Expectation, { kind: 'rows' }>['op'],
      count: Number(rows[2]),
      text,
    };
  if (/^-?\d+(\.\d+)?$/.test(text)) return { kind: 'value', value: text, text };
  const quoted = /^'(.*)'$/.exec(text);
  if (quoted) return { kind: 'value', value: quoted[1]!.replace(/''/g, "'"), text };
  if (/^(true|false|null)$/i.test(text)) return { kind: 'value', value: text.toLowerCase(), text };
  return {
    error: `"${text}" is not an expectation: write a value (0, 'text', true, null), empty, or rows = N (also != < <= > >=)`,
  };
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function evaluate(expectation: Expectation, outcome: QueryOutcome): CheckOutcome {
  const count = outcome.rows.length;
  switch (expectation.kind) {
    case 'empty':
      return { ok: count === 0, actual: count === 0 ? 'empty' : `${count} row${count === 1 ? '' : 's'}` };
    case 'rows': {
      const ok = {
        '=': count === expectation.count,
        '!=': count !== expectation.count,
        '<': count < expectation.count,
        '<=': count <= expectation.count,
        '>': count > expectation.count,
        '>=': count >= expectation.count,
      }[expectation.op];
      return { ok, actual: `${count} row${count === 1 ? '' : 's'}` };
    }
    case 'value': {
      if (count !== 1 || outcome.fields.length < 1)
        return { ok: false, actual: `${count} rows (a single value was expected)` };
      const actual = cell(outcome.rows[0]![outcome.fields[0]!]);
      const numeric = /^-?\d+(\.\d+)?$/.test(expectation.value) && /^-?\d+(\.\d+)?$/.test(actual);
      return { ok: numeric ? Number(actual) === Number(expectation.value) : actual === expectation.value, actual };
    }
  }
}

/** The short inline summary after a statement: `→ 0`, `→ 42 rows`, `→ empty`. */
export function summarize(
  outcome: QueryOutcome & { readonly command?: string; readonly rowCount?: number | null },
): string {
  if (outcome.fields.length === 0)
    return `→ ${outcome.command ?? 'done'}${outcome.rowCount ? ` ${outcome.rowCount}` : ''}`;
  if (outcome.rows.length === 0) return '→ empty';
  if (outcome.rows.length === 1 && outcome.fields.length === 1)
    return `→ ${cell(outcome.rows[0]![outcome.fields[0]!])}`;
  return `→ ${outcome.rows.length} row${outcome.rows.length === 1 ? '' : 's'}`;
}
