// Spec values and workspace files are untrusted (the spec's query aside): hostile names stay names, reads stay
// read-only, paths stay in the spec's folder, and a password in the URL is honoured and never shown.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, adminQuery, type TestDatabase } from '../support/database';
import { makeWorkspace, migrateFully, withMigration } from '../support/migration-helpers';
import { legacySpec } from '../fixtures/legacy-data';
import { resolveSpec } from '../../src/engine/migration-spec/load';
import { loadParser, splitScript } from '../../src/engine/script/parse';
import { dollarQuote, quoteIdent } from '../../src/engine/db/sql';
import { Session } from '../../src/engine/db/session';
import { redact } from '../../src/engine/redact';

type Parser = Awaited<ReturnType<typeof loadParser>>;

/** Parses a statement, and every PL/pgSQL body in it (DO blocks, functions, functions created inside blocks). */
function parseDeep(p: Parser, sql: string, where: string): void {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the parser's JSON tree, walked by hand
  type Tree = Record<string, any>;
  const stmts = (p.parseSync(sql) as { stmts: { stmt: Tree }[] }).stmts;
  assert.equal(stmts.length, 1, `${where}: one statement, not ${stmts.length}: ${sql.slice(0, 200)}`);
  const stmt = stmts[0]!.stmt;
  assert.ok(
    !('DropStmt' in stmt && stmt.DropStmt.removeType === 'OBJECT_TABLE'),
    `${where}: drops a table: ${sql.slice(0, 200)}`,
  );
  const options = (stmt.DoStmt?.args ?? stmt.CreateFunctionStmt?.options ?? []) as {
    DefElem: { defname: string; arg: Tree };
  }[];
  const body = options.find((o) => o.DefElem.defname === 'as')?.DefElem.arg;
  const language =
    options.find((o) => o.DefElem.defname === 'language')?.DefElem.arg?.String?.sval ??
    (stmt.DoStmt ? 'plpgsql' : 'sql');
  if (!body || language !== 'plpgsql') return;
  const text = body.String?.sval ?? body.List?.items?.[0]?.String?.sval;
  const tree = p.parsePlPgSQLSync(
    stmt.DoStmt ? `CREATE FUNCTION pg_temp.body_check() RETURNS void LANGUAGE plpgsql AS ${dollarQuote(text)}` : sql,
  );
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(walk);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const exec = (node as { PLpgSQL_stmt_execsql?: { sqlstmt: { PLpgSQL_expr: { query: string } } } })
      .PLpgSQL_stmt_execsql;
    if (exec) parseDeep(p, exec.sqlstmt.PLpgSQL_expr.query, `${where} (inside a body)`);
    Object.values(node).forEach(walk);
  };
  walk(tree);
}

const HOSTILE = [
  `t'; DROP TABLE victim; --`,
  `q"uote`,
  `per%cent`,
  `dol$lar`,
  `tag$tm$x`,
  `semi;colon`,
  `dash--dash`,
  `do.t`,
  `ünï ☃`,
  'l'.repeat(63),
];

describe('security: untrusted spec values and workspace files', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await db.drop();
  });

  it('hostile names: every generated statement and PL/pgSQL body parses as the one statement it should be, and the script runs', async () => {
    const p = await loadParser();
    await db.client.query('CREATE TABLE victim (id int); INSERT INTO victim VALUES (1)');
    const [orgs, creds, child, query, ledger, mapCol] = HOSTILE;
    await db.client.query(`CREATE SCHEMA ${quoteIdent(HOSTILE[7]!)}`);
    const schema = HOSTILE[7]!;
    const q = (name: string) => `${quoteIdent(schema)}.${quoteIdent(name)}`;
    await db.client.query(`CREATE TABLE ${q(orgs!)} (id uuid PRIMARY KEY);
      INSERT INTO ${q(orgs!)} VALUES ('00000000-0000-0000-0000-000000000001'), ('00000000-0000-0000-0000-000000000002');
      CREATE TABLE ${q(creds!)} (${quoteIdent(HOSTILE[8]!)} bigint PRIMARY KEY, secret text);
      INSERT INTO ${q(creds!)} SELECT i, 's' || i FROM generate_series(1, 20) i;
      CREATE TABLE ${q(child!)} (id bigint PRIMARY KEY, ${quoteIdent(HOSTILE[4]!)} bigint REFERENCES ${q(creds!)});
      INSERT INTO ${q(child!)} SELECT i, i FROM generate_series(1, 20) i;
      CREATE TABLE ${q(query!)} (id bigint PRIMARY KEY, ${quoteIdent(HOSTILE[9]!)} bigint);
      INSERT INTO ${q(query!)} SELECT i, i FROM generate_series(1, 20) i;
      CREATE TABLE ${q(HOSTILE[6]!)} (${quoteIdent(mapCol!)} bigint, org uuid);
      INSERT INTO ${q(HOSTILE[6]!)} SELECT i, '00000000-0000-0000-0000-000000000002' FROM generate_series(1, 10) i;
      GRANT USAGE ON SCHEMA ${quoteIdent(schema)} TO anon, authenticated, service_role;
      GRANT ALL ON ALL TABLES IN SCHEMA ${quoteIdent(schema)} TO authenticated, service_role`);
    const dotted = (name: string) => `"${schema.replace(/"/g, '""')}"."${name.replace(/"/g, '""')}"`;
    const spec = {
      orgs: { table: dotted(orgs!), idColumn: 'id' },
      defaultOrgId: '00000000-0000-0000-0000-000000000001',
      mapping: { table: dotted(HOSTILE[6]!), keyColumn: mapCol, orgColumn: 'org' },
      orgColumn: HOSTILE[2],
      tables: [
        { name: dotted(creds!), orgFrom: { mapping: { column: HOSTILE[8] } } },
        { name: dotted(child!), orgFrom: { parent: { table: dotted(creds!), column: HOSTILE[4] } } },
        {
          name: dotted(query!),
          orgFrom: {
            query: {
              column: HOSTILE[9],
              sql: `SELECT ${quoteIdent(mapCol!)} AS key, org AS org_id FROM ${q(HOSTILE[6]!)}`,
            },
          },
        },
      ],
      tenantCredentials: { table: dotted(ledger!), from: dotted(creds!) },
      tenantContext: { kind: 'setting', name: 'app.current_org_id' },
    };
    const ws = makeWorkspace();
    fs.writeFileSync(ws.specFile, JSON.stringify(spec));
    const text = await withMigration(db.url, ws, async (m) => (await m.generate()).path).then((file) =>
      fs.readFileSync(file, 'utf8'),
    );
    const items = await splitScript(text);
    let parsed = 0;
    for (const item of items)
      if (item.kind === 'sql') {
        parseDeep(p, item.text, `line ${item.line}`);
        parsed++;
      }
    assert.ok(parsed > 40, `${parsed} statements parsed`);
    await migrateFully(db.url, ws);
    assert.equal((await db.client.query('SELECT count(*)::int AS n FROM victim')).rows[0].n, 1);
    const { rows } = await db.client.query(
      `SELECT count(*)::int AS n FROM ${q(creds!)} WHERE ${quoteIdent(HOSTILE[2]!)} = '00000000-0000-0000-0000-000000000002'`,
    );
    assert.equal(rows[0].n, 10);
  });

  it('names over 63 bytes are refused, never truncated', () => {
    const long = 'é'.repeat(32); // 32 characters, 64 bytes
    assert.throws(() => resolveSpec(legacySpec({ orgColumn: long })), /63-byte/);
    assert.throws(() => resolveSpec(legacySpec({ orgs: { table: `public.${long}`, idColumn: 'id' } })), /63-byte/);
  });

  it('plan reads in read-only transactions: a spec query calling a function that deletes rows fails and deletes nothing', async () => {
    await db.client.query(`CREATE TABLE victim AS SELECT i FROM generate_series(1, 50) i;
      CREATE FUNCTION wipe() RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN DELETE FROM victim; RETURN true; END $$`);
    const sql =
      'SELECT DISTINCT ON (user_id) user_id AS key, org_id FROM org_members WHERE wipe() ORDER BY user_id, org_id';
    const ws = makeWorkspace({
      tables: [{ name: 'dashboard_layouts', orgFrom: { query: { column: 'user_id', sql } } }],
      tenantCredentials: undefined,
      mapping: undefined,
    });
    await assert.rejects(
      withMigration(db.url, ws, (m) => m.plan({ exact: true })),
      /read-only transaction/,
    );
    await assert.rejects(
      withMigration(db.url, ws, (m) => m.plan()),
      /read-only transaction/,
    );
    assert.equal((await db.client.query('SELECT count(*)::int AS n FROM victim')).rows[0].n, 50);
    // More than one statement is refused by the parser, before anything runs.
    const two = makeWorkspace({
      tables: [
        {
          name: 'dashboard_layouts',
          orgFrom: { query: { column: 'user_id', sql: `${sql.replace(' WHERE wipe()', '')}; DELETE FROM victim` } },
        },
      ],
      tenantCredentials: undefined,
      mapping: undefined,
    });
    await assert.rejects(
      withMigration(db.url, two, (m) => m.plan()),
      /exactly one SELECT \(found 2 statements\)/,
    );
    assert.equal((await db.client.query('SELECT count(*)::int AS n FROM victim')).rows[0].n, 50);
  });

  it('status reads in a read-only transaction: every query it sends runs where the server refuses writes', async () => {
    const ws = makeWorkspace();
    await migrateFully(db.url, ws);
    const seen: { sql: string; readOnly: string }[] = [];
    const status = await withMigration(db.url, ws, async (m) => {
      await m.model(); // the spec's resolution, shared by every command (its query check is read-only: see plan above)
      const send = m.session.query.bind(m.session);
      m.session.query = (async (text: string, values?: unknown[]) => {
        const result = await send(text, values);
        const readOnly = (await send<{ ro: string }>(`SELECT current_setting('transaction_read_only') AS ro`)).rows[0]!
          .ro;
        seen.push({ sql: text.trim().split(/\s+/).slice(0, 3).join(' '), readOnly });
        return result;
      }) as typeof m.session.query;
      return m.status();
    });
    assert.equal(status.migrated, true);
    assert.ok(seen.length > 5, `${seen.length} queries`);
    assert.deepEqual(
      seen.filter((q) => q.readOnly !== 'on' && q.sql !== 'COMMIT'),
      [],
      'queries of status outside a read-only transaction',
    );
  });

  it("paths that leave the spec's folder are refused: .., absolute, and through a symlink", () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'tm-paths-'));
    const file = path.join(folder, 'tenant-migration.json');
    assert.throws(
      () => resolveSpec(legacySpec({ script: '../../../x.sql' }), file),
      /Spec field script: "\.\.\/\.\.\/\.\.\/x\.sql" leaves the spec's folder/,
    );
    assert.throws(() => resolveSpec(legacySpec({ script: '/tmp/x.sql' }), file), /leaves the spec's folder/);
    fs.symlinkSync(os.tmpdir(), path.join(folder, 'scripts'));
    assert.throws(() => resolveSpec(legacySpec(), file), /leaves the spec's folder/);
    assert.throws(
      () => resolveSpec(legacySpec({ script: 'ok.sql', tests: [{ name: 'x', command: 'true', cwd: '..' }] }), file),
      /tests\[0\]\.cwd/,
    );
    assert.equal(
      resolveSpec(legacySpec({ script: 'sub/ok.sql' }), file).scriptPath,
      path.join(folder, 'sub', 'ok.sql'),
    );
  });

  it('?password= in the URL is honoured and never shown', async () => {
    const password = 'p+w/rd&x';
    await adminQuery(`DROP ROLE IF EXISTS tm_urlpw; CREATE ROLE tm_urlpw LOGIN PASSWORD '${password}'`);
    const url = new URL(db.url);
    url.username = 'tm_urlpw';
    url.password = '';
    const withParam = `${url.toString()}${url.search ? '&' : '?'}password=${encodeURIComponent(password)}`;
    const session = await Session.open(withParam);
    try {
      assert.equal((await session.query<{ u: string }>('SELECT current_user AS u')).rows[0]!.u, 'tm_urlpw');
      assert.ok(!session.description.includes(password));
    } finally {
      await session.close();
    }
    const wrong = withParam.replace(encodeURIComponent(password), 'not-it-at-all');
    const error = await Session.open(wrong).catch((e: Error) => e);
    assert.ok(error instanceof Error && /Password authentication failed/.test(error.message), String(error));
    assert.ok(!redact(`${String(error)} ${withParam}`).includes(encodeURIComponent(password)));
    assert.ok(!redact(withParam).includes('not-it') && !redact(wrong).includes('not-it-at-all'));
    await adminQuery('DROP ROLE tm_urlpw');
  });
});
