// The SQL editor's inline expectations (parsed, evaluated, summarised) and its lint of a migration file (strong locks
// on large tables and their fixes; the safe forms).
import assert from 'node:assert/strict';
import { loadParser, splitWith } from '../../src/engine/script/parse';
import {
  evaluate,
  expectationIn,
  parseExpectation,
  summarize,
  type Expectation,
} from '../../src/engine/sql-editor/expectations';
import { MigrationLinter } from '../../src/engine/sql-editor/lint';

describe('SQL editor engine', () => {
  let parser: Awaited<ReturnType<typeof loadParser>>;
  before(async () => {
    parser = await loadParser();
  });

  describe('expectations', () => {
    it('parses the forms a person writes, and says how to fix a bad one', () => {
      assert.deepEqual(parseExpectation('0'), { kind: 'value', value: '0', text: '0' });
      assert.deepEqual(parseExpectation('empty'), { kind: 'empty', text: 'empty' });
      assert.deepEqual(parseExpectation('rows = 3'), { kind: 'rows', op: '=', count: 3, text: 'rows = 3' });
      assert.deepEqual(parseExpectation("'it''s'"), { kind: 'value', value: "it's", text: "'it''s'" });
      assert.match((parseExpectation('zero') as { error: string }).error, /write a value/);
      assert.deepEqual(expectationIn('\n-- a note\n-- expect: rows > 1\n'), {
        kind: 'rows',
        op: '>',
        count: 1,
        text: 'rows > 1',
      });
      assert.equal(expectationIn('\n-- nothing here\n'), undefined);
    });

    it('evaluates against a result and summarises it inline', () => {
      const one = { rows: [{ count: '0' }], fields: ['count'] };
      assert.deepEqual(evaluate(parseExpectation('0') as Expectation, one), { ok: true, actual: '0' });
      assert.deepEqual(evaluate(parseExpectation('1') as Expectation, one), { ok: false, actual: '0' });
      assert.deepEqual(evaluate(parseExpectation('empty') as Expectation, one), { ok: false, actual: '1 row' });
      assert.deepEqual(evaluate(parseExpectation('rows >= 1') as Expectation, one), { ok: true, actual: '1 row' });
      assert.equal(summarize(one), '→ 0');
      assert.equal(summarize({ rows: [{ a: 1 }, { a: 2 }], fields: ['a'] }), '→ 2 rows');
      assert.equal(summarize({ rows: [], fields: ['a'] }), '→ empty');
    });
  });

  describe('lint', () => {
    const lint = (sql: string, rows?: Map<string, number>) =>
      new MigrationLinter(parser.parseSync).lint(splitWith(parser.scanSync, sql), { tableRows: rows });

    it('flags long strong locks on large tables, with mechanical fixes', () => {
      const sql =
        'ALTER TABLE credentials ADD COLUMN org_id uuid;\nCREATE INDEX i ON credentials (org_id);\nALTER TABLE credentials ADD CONSTRAINT f FOREIGN KEY (org_id) REFERENCES orgs (id);\nALTER TABLE credentials ALTER COLUMN org_id SET NOT NULL;\nUPDATE credentials SET org_id = NULL;';
      const codes = [...new Set(lint(sql).map((d) => d.code))];
      assert.deepEqual(codes, [
        'lock-timeout',
        'statement-timeout',
        'not-idempotent',
        'index-concurrently',
        'foreign-key-not-valid',
        'set-not-null',
        'whole-table-write',
      ]);
      const fix = lint(sql).find((d) => d.code === 'index-concurrently')!.fix!;
      const fixed = sql.slice(0, fix.start) + fix.text + sql.slice(fix.end);
      assert.match(fixed, /CREATE INDEX CONCURRENTLY i ON credentials/);
    });

    it('accepts the safe forms, and small tables', () => {
      const safe =
        "SET lock_timeout = '1s';\nSET statement_timeout = 0;\nALTER TABLE credentials ADD COLUMN IF NOT EXISTS org_id uuid;\nALTER TABLE credentials DROP CONSTRAINT IF EXISTS c;\nALTER TABLE credentials ADD CONSTRAINT c CHECK (org_id IS NOT NULL) NOT VALID;\nALTER TABLE credentials VALIDATE CONSTRAINT c;\nALTER TABLE credentials ALTER COLUMN org_id SET NOT NULL;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON credentials (org_id);\nALTER TABLE credentials DROP CONSTRAINT IF EXISTS f;\nALTER TABLE credentials ADD CONSTRAINT f FOREIGN KEY (org_id) REFERENCES orgs (id) NOT VALID;";
      assert.deepEqual(lint(safe), []);
      assert.deepEqual(
        lint(
          "SET lock_timeout = '1s';\nSET statement_timeout = '1min';\nCREATE INDEX IF NOT EXISTS i ON tiny (x);",
          new Map([['tiny', 12]]),
        ),
        [],
      );
    });
  });
});
