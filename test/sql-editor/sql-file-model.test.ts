// The SQL editor's file model (what the CodeLens, the lint diagnostics and the benchmark use), the result tables,
// and "Run as tenant…"'s org list and role, against a real PostgreSQL.
import assert from 'node:assert/strict';
import { loadParser, splitWith } from '../../src/engine/script/parse';
import { SqlFileModel, LineIndex, isCheck } from '../../src/engine/sql-editor/file-model';
import { MigrationLinter } from '../../src/engine/sql-editor/lint';
import { formatAligned, formatMarkdownTable } from '../../src/engine/sql-editor/format-table';
import { listOrgs, tenantRoleFor } from '../../src/engine/sql-editor/tenant';
import { resolveSpec } from '../../src/engine/migration-spec/load';
import { Session } from '../../src/engine/db/session';
import { GUIDE_CHECKS } from '../../src/engine/migration-spec/template';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { legacySpec } from '../fixtures/legacy-data';

describe('SQL editor file model', () => {
  let parser: Awaited<ReturnType<typeof loadParser>>;
  before(async () => {
    parser = await loadParser();
  });

  it('gives each statement its lenses: queries Run, as tenant, Explain; data changes also Run (write); DDL only Run (write); Describe for \\d', () => {
    const model = new SqlFileModel(parser);
    const text =
      "\\d+ credentials\n\\set ON_ERROR_STOP on\n-- expect: 0\nSELECT count(*) FROM credentials WHERE org_id IS NULL;\nUPDATE reports SET title = 'x' WHERE id = 1;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON reports (title);";
    model.update(text);
    const kinds = model.lenses().map((l) => `${l.index}:${l.kind}`);
    assert.deepEqual(kinds, [
      '0:describe',
      '1:meta',
      '2:run',
      '2:runAsTenant',
      '2:explain',
      '3:run',
      '3:runAsTenant',
      '3:explain',
      '3:runWrite',
      '4:runWrite',
    ]);
    assert.equal(model.lenses()[2]!.offset, text.indexOf('SELECT'));
    assert.equal(model.checkCount(), 1);
    assert.ok(isCheck(model.statements[2]!));
  });

  it('reports a syntax error on its own statement and keeps the others (lint included)', () => {
    const model = new SqlFileModel(parser);
    const text = 'SELECT 1;\nSELEC oops FROM t;\nCREATE INDEX i ON credentials (org_id);\n-- expect: zero\nSELECT 2;';
    model.update(text);
    assert.equal(model.statements.length, 4);
    const found = model.diagnostics().map((d) => ({ code: d.code, at: text.slice(d.start, d.start + 5) }));
    assert.deepEqual(
      found.filter((d) => d.code === 'syntax'),
      [{ code: 'syntax', at: 'SELEC' }],
    );
    assert.ok(
      found.some((d) => d.code === 'index-concurrently'),
      JSON.stringify(found),
    );
    assert.ok(
      found.some((d) => d.code === 'expectation'),
      'the malformed expectation is reported',
    );
    assert.deepEqual(
      model
        .lenses()
        .filter((l) => l.kind === 'run')
        .map((l) => l.index),
      [0, 3],
      'the queries before and after the broken statement keep their Run',
    );
    assert.ok(
      model.lenses().some((l) => l.kind === 'runWrite' && l.index === 2),
      'the index has its Run (write)',
    );
  });

  it('while a quote is open, keeps the statements before it and says where the scanner stopped', () => {
    const model = new SqlFileModel(parser);
    const good = 'SELECT 1;\nSELECT 2;\nSELECT 3;\n';
    model.update(good);
    const open = good.replace('SELECT 2', "SELECT 'oops");
    assert.deepEqual(
      model.update(open).map((s) => s.item.text),
      ['SELECT 1'],
    );
    const stop = model.diagnostics().find((d) => d.code === 'syntax')!;
    assert.equal(stop.start, good.indexOf('2'));
    assert.match(stop.message, /scanner stops here/);
    const typing = open.replace('SELECT 3', 'SELECT 3x');
    model.update(typing);
    assert.equal(
      model.diagnostics().find((d) => d.code === 'syntax')!.start,
      stop.start,
      'typing further on leaves the diagnostic at the quote',
    );
    const closed = good.replace('SELECT 2', "SELECT 'fixed'");
    assert.deepEqual(
      model.update(closed).map((s) => s.item.text),
      ['SELECT 1', "SELECT 'fixed'", 'SELECT 3'],
    );
    assert.deepEqual(model.diagnostics(), []);
  });

  it('lints the same after a whole-batch parse as statement by statement, syntax errors included', () => {
    const statements = [
      'ALTER TABLE credentials ADD COLUMN org_id uuid',
      'SELEC broken',
      'CREATE INDEX i ON credentials (org_id)',
      "SELECT 'ünïcode; fine'",
      'ALTER TABLE credentials ALTER COLUMN org_id SET NOT NULL',
      'DROP TABLE x',
      'also broken (',
      'UPDATE credentials SET org_id = NULL',
    ];
    const text = Array.from({ length: 30 }, (_, i) => statements[i % statements.length]).join(';\n') + ';';
    const items = splitWith(parser.scanSync, text);
    const batch = new MigrationLinter(parser.parseSync);
    let parses = 0;
    const counting = new MigrationLinter((sql) => {
      parses++;
      return parser.parseSync(sql);
    });
    counting.prime(items);
    assert.ok(parses < items.length / 2, `${parses} parses for ${items.length} statements`);
    batch.prime(items);
    const single = new MigrationLinter(parser.parseSync);
    assert.deepEqual(batch.lint(items), single.lint(items));
    for (const item of items)
      if (item.kind === 'sql')
        assert.deepEqual(batch.syntaxErrorOf(item.text), single.syntaxErrorOf(item.text), item.text);
  });

  it('primes the lint in slices, and ends for a file with more statements than its cache keeps', () => {
    const items = splitWith(parser.scanSync, Array.from({ length: 900 }, (_, i) => `SELECT ${i}`).join(';\n'));
    const linter = new MigrationLinter(parser.parseSync);
    assert.deepEqual(
      [linter.primeSome(items, 400), linter.primeSome(items, 400), linter.primeSome(items, 400)],
      [false, false, true],
    );
    const huge = Array.from({ length: 50_001 }, (_, i) => ({ ...items[0]!, text: `SELECT ${i}` }));
    let parses = 0;
    assert.equal(
      new MigrationLinter((sql) => {
        parses++;
        return parser.parseSync(sql);
      }).primeSome(huge, 400),
      true,
    );
    assert.equal(parses, 0, 'nothing primed: lint() parses a file that large as it goes');
  });

  it('keeps the split right after edits, as a full split would give', () => {
    const model = new SqlFileModel(parser);
    let text = GUIDE_CHECKS;
    model.update(text);
    text = text.replace(
      '-- expect: 0\nSELECT COUNT(*) FROM reports',
      "-- expect: rows = 1\nSELECT 'a;b' AS x;\nSELECT COUNT(*) FROM reports",
    );
    assert.deepEqual(
      model.update(text).map((s) => s.item),
      splitWith(parser.scanSync, text),
    );
    assert.equal(model.checkCount(), 4, 'the reports count gave its expectation to the statement inserted above it');
    const inserted = model.statements.find((s) => s.item.text === "SELECT 'a;b' AS x")!;
    assert.deepEqual(inserted.expectation, { kind: 'rows', op: '=', count: 1, text: 'rows = 1' });
  });

  it('rescans only around an edit: typing, adding and deleting a statement', () => {
    let scanned = 0;
    const model = new SqlFileModel({
      scanSync: (t) => {
        scanned += t.length;
        return parser.scanSync(t);
      },
      parseSync: parser.parseSync,
    });
    let text = Array.from({ length: 200 }, (_, i) => `-- step ${i}\nUPDATE t SET a = ${i} WHERE id = ${i};`).join('\n');
    model.update(text);
    const edits = [
      (t: string) => t.replace('WHERE id = 50;', 'WHERE id = 50 AND b;'),
      (t: string) => t.replace('WHERE id = 80;', 'WHERE id = 80;\nSELECT 1;'),
      (t: string) => t.replace('UPDATE t SET a = 120 WHERE id = 120;', ''),
      (t: string) => t.replace('-- step 150\n', ''),
    ];
    for (const edit of edits) {
      text = edit(text);
      scanned = 0;
      assert.deepEqual(
        model.update(text).map((s) => s.item),
        splitWith(parser.scanSync, text),
      );
      assert.ok(scanned < 200, `${scanned} characters scanned again for an edit in a ${text.length}-character file`);
    }
  });

  it('maps offsets to lines and characters', () => {
    const index = new LineIndex('ab\ncd\n\nef');
    assert.deepEqual(
      [0, 2, 3, 6, 7, 8].map((o) => index.position(o)),
      [
        { line: 0, character: 0 },
        { line: 0, character: 2 },
        { line: 1, character: 0 },
        { line: 2, character: 0 },
        { line: 3, character: 0 },
        { line: 3, character: 1 },
      ],
    );
  });

  it('formats rows as psql aligns them, and as a Markdown table with the first rows', () => {
    const outcome = {
      fields: ['org_id', 'count'],
      rows: [
        { org_id: 'a|b', count: '12' },
        { org_id: null, count: '3' },
      ],
    };
    assert.equal(formatAligned(outcome), ' org_id | count\n--------+-------\n a|b    | 12\n null   | 3\n(2 rows)');
    assert.equal(formatMarkdownTable(outcome, 1), '| org\\_id | count |\n| --- | --- |\n| a\\|b | 12 |');
  });

  describe('run as tenant', () => {
    let db: TestDatabase;
    let session: Session;
    before(async () => {
      db = await createTestDatabase();
      session = await Session.open(db.url);
    });
    after(async () => {
      await session.close();
      await db.drop();
    });

    it('lists the orgs with their names, and finds the tenant role or says what to set', async () => {
      const spec = resolveSpec(legacySpec());
      const orgs = await listOrgs(session, spec);
      const [count] = (await db.client.query('SELECT count(*)::int AS n FROM orgs')).rows as { n: number }[];
      assert.equal(orgs.length, count!.n);
      assert.ok(
        orgs.every((o) => o.id && o.label),
        JSON.stringify(orgs.slice(0, 2)),
      );
      assert.equal(await tenantRoleFor(session, undefined), 'authenticated');
      await assert.rejects(
        tenantRoleFor(session, 'no_such_role'),
        (e: Error & { next?: string }) => /no role "no_such_role"/.test(e.message) && /tenantRole/.test(e.next ?? ''),
      );
    });
  });
});
