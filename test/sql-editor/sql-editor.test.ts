import assert from 'node:assert/strict';
import { loadParser, splitWith } from '../../src/engine/script/parse';
import { SqlDocument } from '../../src/engine/sql-editor/document';
import { SqlFileModel } from '../../src/engine/sql-editor/file-model';
import { evaluate, expectationIn, parseExpectation, summarize, type Expectation } from '../../src/engine/sql-editor/expectations';
import { MigrationLinter } from '../../src/engine/sql-editor/lint';
import { runStatement } from '../../src/engine/sql-editor/run-statement';
import { describeRelation } from '../../src/engine/sql-editor/describe';
import { Session } from '../../src/engine/db/session';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { migrateFully, makeWorkspace } from '../support/migration-helpers';
import { ORG_PREFIX } from '../fixtures/legacy-data';

const org = (n: number) => `${ORG_PREFIX}${n.toString(16).padStart(12, '0')}`;

describe('SQL editor engine', () => {
  let parser: Awaited<ReturnType<typeof loadParser>>;
  before(async () => { parser = await loadParser(); });

  describe('expectations', () => {
    it('parses the forms a person writes, and says how to fix a bad one', () => {
      assert.deepEqual(parseExpectation('0'), { kind: 'value', value: '0', text: '0' });
      assert.deepEqual(parseExpectation('empty'), { kind: 'empty', text: 'empty' });
      assert.deepEqual(parseExpectation('rows = 3'), { kind: 'rows', op: '=', count: 3, text: 'rows = 3' });
      assert.deepEqual(parseExpectation("'it''s'"), { kind: 'value', value: "it's", text: "'it''s'" });
      assert.match((parseExpectation('zero') as { error: string }).error, /write a value/);
      assert.deepEqual(expectationIn('\n-- a note\n-- expect: rows > 1\n'), { kind: 'rows', op: '>', count: 1, text: 'rows > 1' });
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

  describe('incremental splitting', () => {
    it('after any edit, gives exactly what a full split gives', () => {
      const base = [
        "-- expect: 0\nSELECT count(*) FROM credentials WHERE org_id IS NULL;",
        "\\d+ credentials",
        "DO $$ BEGIN RAISE NOTICE 'a;b'; END $$;",
        "SELECT 'it''s; fine' AS x;",
        "/* a block; comment */ UPDATE reports SET title = title WHERE id = 1;",
        "SELECT 1",
      ].join('\n');
      let seed = 42;
      const random = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
      const pieces = [';', "'", '$$', '\n', 'SELECT 2;', ' ', '--', 'x', '\\d t\n', '/*', '*/'];
      const doc = new SqlDocument(parser.scanSync);
      let text = base;
      doc.update(text);
      let compared = 0;
      for (let i = 0; i < 400; i++) {
        const at = random(text.length + 1);
        const cut = random(3) === 0 ? random(6) : 0;
        text = text.slice(0, at) + (random(4) === 0 ? '' : pieces[random(pieces.length)]) + text.slice(Math.min(text.length, at + cut));
        let full;
        try { full = splitWith(parser.scanSync, text); } catch { doc.update(base); text = base; continue; }
        assert.deepEqual(doc.update(text).map((s) => s.item), full, `after edit ${i}: ${JSON.stringify(text)}`);
        compared++;
      }
      assert.ok(compared > 200);
    });
    it('re-splits the statement before an edit: deleting a ";" set apart by a space joins the two statements', () => {
      const doc = new SqlDocument(parser.scanSync);
      doc.update('SELECT 1 ;\nSELECT 2;\nSELECT 3;');
      const joined = 'SELECT 1 \nSELECT 2;\nSELECT 3;';
      assert.deepEqual(doc.update(joined).map((s) => s.item), splitWith(parser.scanSync, joined));
    });

    it('deleting the line end of a "--" comment or a meta-command takes the next statement into it', () => {
      for (const [before, after] of [["SELECT 1;\n-- note\n  DROP TABLE t;\n", "SELECT 1;\n-- note  DROP TABLE t;\n"], ["\\set x y\n  DROP TABLE t;\n", "\\set x y  DROP TABLE t;\n"]] as const) {
        const doc = new SqlDocument(parser.scanSync);
        doc.update(before);
        assert.deepEqual(doc.update(after).map((s) => s.item), splitWith(parser.scanSync, after), JSON.stringify(after));
        assert.ok(!doc.statements.some((s) => s.item.text === 'DROP TABLE t'), 'the DROP is commented out now');
      }
    });

    it('ends a meta-command at its line end even when a quote or comment opens on it (as psql does), whole and in chunks', () => {
      const text = "\\echo /* start\nSELECT 1;\n*/ SELECT 2;\nSELECT 3;\n";
      const whole = splitWith(parser.scanSync, text);
      assert.deepEqual(whole.map((i) => i.text), ['\\echo /* start', 'SELECT 1', '*/ SELECT 2', 'SELECT 3']);
      assert.deepEqual(whole.map((i) => i.line), [1, 2, 3, 4]);
      for (const chunk of [4, 8, 16]) assert.deepEqual(new SqlDocument(parser.scanSync, chunk).update(text).map((s) => s.item), whole, `chunks of ${chunk}`);
      const unbalanced = "\\echo it's\nSELECT 1;\n\\echo that's it\nSELECT 2;\n";
      assert.deepEqual(splitWith(parser.scanSync, unbalanced).map((i) => `${i.kind} ${i.text} @${i.line}`), ["meta \\echo it's @1", 'sql SELECT 1 @2', "meta \\echo that's it @3", 'sql SELECT 2 @4']);
      for (const chunk of [4, 16, 1000]) assert.deepEqual(new SqlDocument(parser.scanSync, chunk).update(unbalanced).map((s) => s.item), splitWith(parser.scanSync, unbalanced), `chunks of ${chunk}`);
    });

    it('splits a file in chunks as the whole split does, whatever a chunk ends in (quotes, dollar quotes, comments, \\d)', () => {
      const forms = [
        (i: number) => `-- expect: ${i}\nSELECT ${i};`,
        (i: number) => `DO $fn$ BEGIN RAISE NOTICE 'a;${i}'; END $fn$;`,
        (i: number) => `SELECT 'it''s; ${i}' AS "semi;colon";`,
        (i: number) => `/* a ; comment\n over lines */ UPDATE t SET a = ${i} WHERE id = ${i};`,
        (i: number) => `\\d+ t${i}`,
        (i: number) => `SELECT $$${'x;'.repeat(i % 40)}$$;`,
        (i: number) => `SELECT 'ünïcödé ${i}';`,
      ];
      const text = Array.from({ length: 300 }, (_, i) => forms[(i * 7 + (i >> 3)) % forms.length]!(i)).join('\n');
      const full = splitWith(parser.scanSync, text);
      for (const chunk of [1, 17, 64, 333, 4096]) {
        const doc = new SqlDocument(parser.scanSync, chunk);
        doc.start(text);
        let steps = 1;
        while (!doc.complete) { doc.step(); steps++; }
        assert.deepEqual(doc.statements.map((s) => s.item), full, `chunks of ${chunk} characters`);
        assert.deepEqual(doc.statements.map((s) => s.expectation), new SqlDocument(parser.scanSync).update(text).map((s) => s.expectation));
        if (chunk < 4096) assert.ok(steps > 5, `${steps} steps with chunks of ${chunk}`);
      }
    });

    it('shows the first statements of a large file after one chunk, and takes an edit made before the split is done', () => {
      const text = Array.from({ length: 2000 }, (_, i) => `UPDATE t SET a = ${i} WHERE id = ${i};`).join('\n');
      const model = new SqlFileModel(parser);
      model.begin(text);
      assert.equal(model.complete, false);
      assert.ok(model.statements.length > 100 && model.statements.length < 2000, `${model.statements.length} statements after the first chunk`);
      assert.deepEqual(model.statements.map((s) => s.item), splitWith(parser.scanSync, text).slice(0, model.statements.length));
      const edited = text.replace('WHERE id = 1500;', "WHERE id = 1500;\nSELECT 'new';").replace('SET a = 3 ', 'SET a = 33 ');
      model.begin(edited);
      while (!model.resume()) { /* the rest */ }
      assert.deepEqual(model.statements.map((s) => s.item), splitWith(parser.scanSync, edited));
    });

    it('with a dollar quote never closed, splits every statement before it (strings with ";" around it) and names its statement', () => {
      const forms = [
        (i: number) => `SELECT 'a;${i}' AS "x;y";`,
        (i: number) => `DO $body$ BEGIN PERFORM ${i}; END $body$;`,
        (i: number) => `-- expect: 0\nSELECT ${i} /* ; */;`,
        (i: number) => `UPDATE t SET note = 'it''s;' WHERE id = ${i};`,
      ];
      const valid = Array.from({ length: 120 }, (_, i) => forms[i % forms.length]!(i)).join('\n');
      const items = splitWith(parser.scanSync, valid);
      for (const [j, chunk] of [[0, 16], [1, 1], [37, 7], [60, 64], [90, 1000], [119, 33]] as const) {
        const at = items[j]!.start;
        const broken = `${valid.slice(0, at)}$never$ ${valid.slice(at)}`;
        const model = new SqlFileModel(parser, chunk);
        model.update(broken);
        assert.deepEqual(model.statements.map((s) => s.item), items.slice(0, j), `statement ${j}, chunks of ${chunk}`);
        const stop = model.diagnostics().find((d) => d.code === 'syntax')!.start;
        assert.ok(stop > (items[j - 1]?.end ?? -1) && stop <= at, `statement ${j}, chunks of ${chunk}: the diagnostic at ${stop} is on the statement (or its comment) at ${at}`);
      }
    });

    it('after an opening quote is typed near the top of a large file, stops at its statement within a few scans of the file', () => {
      const text = Array.from({ length: 4000 }, (_, i) => (i % 3 === 0 ? `UPDATE accounts SET note = 'row ${i}' WHERE id = ${i};` : `ALTER TABLE t${i} ADD COLUMN org_id bigint;`)).join('\n');
      let scanned = 0;
      let failed = 0;
      const scanSync = (t: string) => { try { const r = parser.scanSync(t); scanned += t.length; return r; } catch (e) { failed += t.length; throw e; } };
      const model = new SqlFileModel({ scanSync, parseSync: parser.parseSync });
      model.update(text);
      const at = text.indexOf('\n', 300) + 1;
      scanned = 0;
      failed = 0;
      model.update(`${text.slice(0, at)}SELECT '${text.slice(at)}`);
      assert.equal(model.statements.length, splitWith(parser.scanSync, text.slice(0, at)).length, 'every statement before the quote');
      assert.equal(model.diagnostics().find((d) => d.code === 'syntax')?.start, at, 'the diagnostic where the edit began');
      // Every quote after it pairs up differently, so there is no end to find: the search gives up in proportion to the
      // file (a scan that fails stops at the problem and returns nothing: it costs a fraction of one that succeeds).
      assert.ok(scanned + failed / 8 < 8 * text.length, `${scanned} characters scanned and ${failed} failed for a ${text.length}-character file`);
    });

    it('stops at an unterminated quote in a later chunk and says where', () => {
      const good = Array.from({ length: 1500 }, (_, i) => `SELECT ${i};`).join('\n');
      const text = `${good}\nSELECT 'never closed;\nSELECT 2;`;
      const model = new SqlFileModel(parser);
      model.update(text);
      assert.equal(model.statements.length, 1500);
      const stop = model.diagnostics().find((d) => d.code === 'syntax')!;
      assert.equal(stop.start, text.indexOf("SELECT 'never"), 'at the statement that never ends');
    });
  });

  describe('lint', () => {
    const lint = (sql: string, rows?: Map<string, number>) => new MigrationLinter(parser.parseSync).lint(splitWith(parser.scanSync, sql), { tableRows: rows });

    it('flags long strong locks on large tables, with mechanical fixes', () => {
      const sql = "ALTER TABLE credentials ADD COLUMN org_id uuid;\nCREATE INDEX i ON credentials (org_id);\nALTER TABLE credentials ADD CONSTRAINT f FOREIGN KEY (org_id) REFERENCES orgs (id);\nALTER TABLE credentials ALTER COLUMN org_id SET NOT NULL;\nUPDATE credentials SET org_id = NULL;";
      const codes = [...new Set(lint(sql).map((d) => d.code))];
      assert.deepEqual(codes, ['lock-timeout', 'statement-timeout', 'not-idempotent', 'index-concurrently', 'foreign-key-not-valid', 'set-not-null', 'whole-table-write']);
      const fix = lint(sql).find((d) => d.code === 'index-concurrently')!.fix!;
      const fixed = sql.slice(0, fix.start) + fix.text + sql.slice(fix.end);
      assert.match(fixed, /CREATE INDEX CONCURRENTLY i ON credentials/);
    });

    it('accepts the safe forms, and small tables', () => {
      const safe = "SET lock_timeout = '1s';\nSET statement_timeout = 0;\nALTER TABLE credentials ADD COLUMN IF NOT EXISTS org_id uuid;\nALTER TABLE credentials DROP CONSTRAINT IF EXISTS c;\nALTER TABLE credentials ADD CONSTRAINT c CHECK (org_id IS NOT NULL) NOT VALID;\nALTER TABLE credentials VALIDATE CONSTRAINT c;\nALTER TABLE credentials ALTER COLUMN org_id SET NOT NULL;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON credentials (org_id);\nALTER TABLE credentials DROP CONSTRAINT IF EXISTS f;\nALTER TABLE credentials ADD CONSTRAINT f FOREIGN KEY (org_id) REFERENCES orgs (id) NOT VALID;";
      assert.deepEqual(lint(safe), []);
      assert.deepEqual(lint("SET lock_timeout = '1s';\nSET statement_timeout = '1min';\nCREATE INDEX IF NOT EXISTS i ON tiny (x);", new Map([['tiny', 12]])), []);
    });
  });

  describe('running statements', () => {
    let db: TestDatabase;
    let session: Session;
    before(async () => {
      db = await createTestDatabase();
      await migrateFully(db.url, makeWorkspace());
      session = await Session.open(db.url);
    });
    after(async () => { await session.close(); await db.drop(); });

    it('runs read-only and rolls back by default', async () => {
      const r = await runStatement(session, 'SELECT count(*) FROM credentials WHERE org_id IS NULL', { kind: 'read' }, { timeoutMs: 5000 });
      assert.equal(summarize(r), '→ 0');
      await assert.rejects(runStatement(session, `DELETE FROM reports`, { kind: 'read' }, { timeoutMs: 5000 }), /read-only transaction/);
      assert.ok(Number((await db.client.query('SELECT count(*) FROM reports')).rows[0].count) > 0);
    });

    it('runs as a tenant: only that org\'s rows, rolled back', async () => {
      const r = await runStatement(session, 'SELECT DISTINCT org_id::text FROM reports', { kind: 'tenant', org: org(2), role: 'authenticated', context: { kind: 'supabase-jwt', claim: 'org_id' } }, { timeoutMs: 5000 });
      assert.deepEqual(r.rows, [{ org_id: org(2) }]);
      const role = await session.query<{ u: string }>('SELECT current_user AS u');
      assert.equal(role.rows[0]!.u, 'postgres', 'the tenant role leaked out of the transaction');
    });

    it('writes only when asked, and applies the statement timeout', async () => {
      await runStatement(session, `UPDATE reports SET title = 'edited' WHERE id = 1`, { kind: 'write' }, { timeoutMs: 5000 });
      assert.equal((await db.client.query('SELECT title FROM reports WHERE id = 1')).rows[0].title, 'edited');
      await assert.rejects(runStatement(session, 'SELECT pg_sleep(2)', { kind: 'read' }, { timeoutMs: 100 }), /statement timeout/);
      const plan = await runStatement(session, 'SELECT * FROM reports WHERE org_id = $$x$$::uuid', { kind: 'explain' }, { timeoutMs: 5000 }).catch((e: Error) => e);
      assert.ok(plan instanceof Error, 'a bad uuid should fail');
      const explain = await runStatement(session, 'SELECT * FROM reports', { kind: 'explain' }, { timeoutMs: 5000 });
      assert.match(String(explain.rows[0]!['QUERY PLAN']), /Seq Scan on reports/);
    });

    it('a write: audited with the write, refused while a run holds the lock, CONCURRENTLY and VACUUM outside a transaction', async () => {
      const audit = async () => (await db.client.query(`SELECT statement, outcome, rows, error FROM tenant_migration.audit WHERE step = 'sql-editor' ORDER BY id`)).rows;
      const before = (await audit()).length;
      await runStatement(session, `UPDATE reports SET title = 'audited' WHERE id = 2`, { kind: 'write' }, { timeoutMs: 5000 });
      await assert.rejects(runStatement(session, `UPDATE reports SET title = 'never' WHERE id = 2 / 0`, { kind: 'write' }, { timeoutMs: 5000 }), /division by zero/);
      assert.deepEqual((await audit()).slice(before).map((r) => [r.statement, r.outcome, r.rows]), [
        [`UPDATE reports SET title = 'audited' WHERE id = 2`, 'ok', '1'],
        [`UPDATE reports SET title = 'never' WHERE id = 2 / 0`, 'error', null],
      ]);

      const run = await Session.open(db.url);
      try {
        await run.query('SELECT pg_advisory_lock(7447313001)');
        await assert.rejects(runStatement(session, `UPDATE reports SET title = 'during a run' WHERE id = 3`, { kind: 'write' }, { timeoutMs: 5000 }),
          (e: Error) => /Another migration run holds the lock/.test(e.message) && e.message.includes(`pid ${run.pid}`));
        assert.notEqual((await db.client.query('SELECT title FROM reports WHERE id = 3')).rows[0].title, 'during a run');
      } finally {
        await run.close();
      }

      await runStatement(session, 'CREATE INDEX CONCURRENTLY IF NOT EXISTS reports_title_editor ON reports (title)', { kind: 'write' }, { timeoutMs: 5000 });
      assert.deepEqual((await db.client.query(`SELECT indisvalid FROM pg_index WHERE indexrelid = 'reports_title_editor'::regclass`)).rows, [{ indisvalid: true }]);
      await runStatement(session, 'VACUUM (ANALYZE) reports', { kind: 'write' }, { timeoutMs: 5000 });
      const shown = (await session.query<{ statement_timeout: string }>('SHOW statement_timeout')).rows[0]!;
      assert.notEqual(shown.statement_timeout, '5s', 'the statement timeout of a statement run alone is reset after it');
      const locks = await db.client.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = $1`, [session.pid]);
      assert.equal(locks.rowCount, 0, 'the run lock is released after every write');
    });

    it('answers \\d+ from the catalog', async () => {
      const text = await describeRelation(session, 'credentials', true);
      assert.match(text, /Table "public\.credentials"/);
      assert.match(text, /org_id +\| uuid +\| not null/);
      assert.match(text, /POLICY "tenant_migration_isolation" AS RESTRICTIVE FOR ALL/);
      assert.match(text, /Policies \(row security enabled\)/);
      assert.doesNotMatch(text, /forced row security/, 'transition mode: FORCE waits for the enforce step');
      assert.match(await describeRelation(session, 'nope', false), /Did not find any relation named "nope"/);
    });
  });
});
