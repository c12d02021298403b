// Every lint rule on its bad and good cases; every quick fix applied, re-linted and parsed by PostgreSQL's parser.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadParser, splitWith } from '../../src/engine/script/parse';
import {
  MigrationLinter,
  RULES,
  type LintDiagnostic,
  type LintFix,
  type LintOptions,
} from '../../src/engine/sql-editor/lint';
import { splitByParse } from '../../src/engine/sql-editor/lint/lint-text';
import { CASES, PRE } from './lint-cases';

describe('migration lint rules', () => {
  let parser: Awaited<ReturnType<typeof loadParser>>;
  before(async () => {
    parser = await loadParser();
  });
  const lint = (sql: string, options: LintOptions = {}): LintDiagnostic[] =>
    new MigrationLinter(parser.parseSync, parser.parsePlPgSQLSync).lint(splitWith(parser.scanSync, sql), {
      source: sql,
      ...options,
    });
  const apply = (sql: string, fix: LintFix) => sql.slice(0, fix.start) + fix.text + sql.slice(fix.end);

  it('has bad and good cases for every rule, and every rule says its lock and its safe alternative', () => {
    assert.deepEqual(
      RULES.map((r) => r.id).filter((id) => !CASES.some((c) => c.rule === id)),
      [],
    );
    for (const rule of RULES) assert.ok(rule.lock && rule.safe, rule.id);
    const doc = fs.readFileSync(path.join(__dirname, '../../docs/lint.md'), 'utf8');
    for (const rule of RULES)
      assert.ok(
        doc.includes(`| \`${rule.id}\` | ${rule.squawk ? `\`${rule.squawk}\`` : '—'} |`),
        `docs/lint.md lists ${rule.id} with its squawk name`,
      );
  });

  for (const c of CASES) {
    describe(c.rule, () => {
      c.bad.forEach((sql, i) =>
        it(`flags bad case ${i + 1}`, () => {
          const found = lint(sql, c.options).filter((d) => d.code === c.rule);
          assert.ok(
            found.length > 0,
            `${c.rule} not reported for:\n${sql}\n${JSON.stringify(lint(sql, c.options).map((d) => d.code))}`,
          );
          const rule = RULES.find((r) => r.id === c.rule)!;
          assert.ok(found[0]!.message.includes(rule.safe), 'the message gives the safe alternative');
        }),
      );
      c.good.forEach((sql, i) =>
        it(`accepts good case ${i + 1}`, () => {
          assert.deepEqual(
            lint(sql, c.options)
              .filter((d) => d.code === c.rule)
              .map((d) => d.message),
            [],
            sql,
          );
        }),
      );
      if (c.fix) {
        const { bad, clean } = c.fix;
        it(`fixes bad case ${bad + 1}: valid SQL that lints ${clean ? 'clean' : 'without this rule'}`, () => {
          const sql = c.bad[bad]!;
          const fix = lint(sql, c.options).find((d) => d.code === c.rule)!.fix;
          assert.ok(fix, `${c.rule} has a fix for:\n${sql}`);
          const fixed = apply(sql, fix);
          assert.doesNotThrow(() => parser.parseSync(fixed), fixed);
          const after = lint(fixed, c.options);
          assert.deepEqual(
            after.filter((d) => clean || d.code === c.rule).map((d) => `${d.code}: ${d.message}`),
            [],
            fixed,
          );
        });
      }
    });
  }

  it('fixes DROP and ADD COLUMN into valid SQL (the two fixes that were broken)', () => {
    const drop = `${PRE}drop table t;`;
    const dropFix = lint(drop).find((d) => d.code === 'not-idempotent')!.fix!;
    assert.equal(apply(drop, dropFix), `${PRE}drop table IF EXISTS t;`);
    const add = `${PRE}ALTER TABLE t ADD COLUMN a int;`;
    assert.equal(
      apply(add, lint(add).find((d) => d.code === 'not-idempotent')!.fix!),
      `${PRE}ALTER TABLE t ADD COLUMN IF NOT EXISTS a int;`,
    );
    const several = `${PRE}ALTER TABLE t ADD a int, ADD COLUMN IF NOT EXISTS b int, ADD c int;`;
    let text = several;
    for (;;) {
      const next = lint(text).find((d) => d.code === 'not-idempotent');
      if (!next) break;
      text = apply(text, next.fix!);
    }
    assert.equal(
      text,
      `${PRE}ALTER TABLE t ADD COLUMN IF NOT EXISTS a int, ADD COLUMN IF NOT EXISTS b int, ADD COLUMN IF NOT EXISTS c int;`,
    );
  });

  it('offers no CONCURRENTLY fix where it would fail: in a transaction, on a partitioned table', () => {
    const inTransaction = lint(`${PRE}BEGIN;\nCREATE INDEX IF NOT EXISTS i ON t (a);\nCOMMIT;`).find(
      (d) => d.code === 'index-concurrently',
    )!;
    assert.equal(inTransaction.fix, undefined);
    const partitioned = lint(`${PRE}CREATE INDEX IF NOT EXISTS i ON parted (a);`, {
      tables: new Map([['parted', { partitioned: true }]]),
    }).find((d) => d.code === 'index-concurrently')!;
    assert.equal(partitioned.fix, undefined);
    assert.match(partitioned.message, /ON ONLY/);
    assert.equal(
      lint(`${PRE}BEGIN;\nDROP INDEX IF EXISTS i;\nCOMMIT;`).find((d) => d.code === 'drop-index-concurrently')!.fix,
      undefined,
    );
  });

  it('honours -- tenant-migrate-ignore and -- squawk-ignore, for a statement or the file', () => {
    const bad = 'CREATE INDEX IF NOT EXISTS i ON t (a);';
    const codes = (sql: string, options?: LintOptions) => lint(sql, options).map((d) => d.code);
    assert.deepEqual(
      codes(`${PRE}-- tenant-migrate-ignore index-concurrently\n${bad}\n${bad}`),
      ['index-concurrently'],
      'the next statement only',
    );
    assert.deepEqual(
      codes(`${PRE}-- squawk-ignore require-concurrent-index-creation\n${bad}`),
      [],
      "squawk's name for the rule",
    );
    assert.deepEqual(
      codes(`${PRE}${bad}\n-- squawk-ignore-file require-concurrent-index-creation\n${bad}`),
      [],
      'the whole file',
    );
    assert.deepEqual(codes(`${PRE}-- tenant-migrate-ignore\n${bad}`), [], 'no names: every rule');
    assert.deepEqual(
      codes(`${PRE}-- tenant-migrate-ignore drop-table\n${bad}`),
      ['index-concurrently'],
      'another rule stays on',
    );
    assert.deepEqual(
      codes(
        `${PRE}DO $$ BEGIN\n  -- tenant-migrate-ignore whole-table-write\n  UPDATE t SET a = 1;\n  DELETE FROM t;\nEND $$;`,
      ),
      ['whole-table-write'],
      'inside a DO block',
    );
    assert.deepEqual(
      codes(`${PRE}${bad}`, { rules: { 'require-concurrent-index-creation': false } }),
      [],
      'turned off by squawk name',
    );
    assert.deepEqual(codes(`${PRE}${bad}`, { rules: { 'index-concurrently': false } }), []);
  });

  it('knows PostgreSQL versions and assume-in-transaction', () => {
    const constantDefault = `${PRE}ALTER TABLE t ADD COLUMN IF NOT EXISTS a int DEFAULT 0;`;
    assert.ok(
      lint(constantDefault, { postgresVersion: 10 }).some((d) => d.code === 'volatile-default'),
      'any default rewrites before 11',
    );
    const proven = `${PRE}ALTER TABLE t ADD CONSTRAINT c CHECK (a IS NOT NULL) NOT VALID;\nALTER TABLE t VALIDATE CONSTRAINT c;\nALTER TABLE t ALTER COLUMN a SET NOT NULL;`;
    assert.ok(
      lint(proven, { postgresVersion: 11 }).some((d) => d.code === 'set-not-null'),
      'the check is used from 12 on',
    );
    assert.ok(
      lint(`${PRE}CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);`, { assumeInTransaction: true }).some(
        (d) => d.code === 'concurrently-in-transaction',
      ),
    );
    assert.ok(
      lint(`${PRE}BEGIN;\nCOMMIT;`, { assumeInTransaction: true }).some((d) => d.code === 'transaction-nesting'),
    );
    assert.ok(
      lint(`${PRE}ALTER TABLE t ALTER COLUMN a SET NOT NULL;`, {
        tables: new Map([['t', { notNullChecked: ['a'] }]]),
      }).every((d) => d.code !== 'set-not-null'),
      'a check validated on the database',
    );
    assert.deepEqual(
      lint(`${PRE}ALTER TABLE small ALTER COLUMN a TYPE bigint;`, { tableRows: new Map([['small', 10]]) }).map(
        (d) => d.code,
      ),
      [],
      'a small table',
    );
  });

  it('scopes the RLS rules to the tenant tables', () => {
    const sql = `${PRE}ALTER TABLE lookup ENABLE ROW LEVEL SECURITY;\nCREATE POLICY p ON lookup USING (true);`;
    const rls = (options: LintOptions) =>
      lint(sql, options)
        .map((d) => d.code)
        .filter((c) => c.startsWith('rls-'));
    assert.deepEqual(rls({ tenantTables: ['public.credentials'] }), []);
    assert.deepEqual(rls({ tenantTables: ['lookup'] }), ['rls-enable-without-force', 'rls-permissive-true']);
  });

  it('splits a whole file by one parse as the scanner does (comments, DO blocks, non-ASCII text)', () => {
    const text = `/* a /* nested */ note */ SET lock_timeout = '1s';\n-- why\nALTER TABLE "Tä" ADD COLUMN IF NOT EXISTS "ü" int -- trailing\n;\n${CASES.flatMap(
      (c) => c.bad,
    )
      .filter((sql) => sql.trimEnd().endsWith(';'))
      .join('\n')}\nSELECT 'a;b'`;
    const split = splitByParse(parser.parseSync, text)!;
    assert.deepEqual(split.items, splitWith(parser.scanSync, text));
    assert.equal(
      splitByParse(parser.parseSync, 'SELECT 1;\n\\d+ t\n'),
      undefined,
      'psql meta-commands need the scanner',
    );
    assert.equal(splitByParse(parser.parseSync, 'SELEC 1;'), undefined, 'a syntax error needs the per-statement split');
  });
});
