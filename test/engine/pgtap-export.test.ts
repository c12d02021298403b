// export-tests: the isolation matrix as pgTAP files, run here under pg_prove as a team would. The suite runs on
// Debian's PostgreSQL 15 server (started by this test, its extension folder holds pgTAP); pgTAP, pg_prove and the
// server are installed by scripts/pgtap/provision.mjs with apt-get when missing (as root). The exported files pass
// after the migration, and fail when the isolation policy is dropped or a view that leaks is added.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedServer, type EmbeddedServer } from '../support/embedded-server';
import { createLegacySchema, legacySpec, seedLegacyData, SMALL } from '../fixtures/legacy-data';
import { NOTES } from '../fixtures/odd-tables';
import { makeWorkspace, migrateFully, withMigration, type Workspace } from '../support/migration-helpers';
import { buildCli, passwordOf, runCli, showsPassword } from '../support/cli';

interface PgtapPaths {
  bin: string;
  psql: string;
  pgProve: string;
}

function provision(): PgtapPaths {
  const r = spawnSync('node', [path.join(__dirname, '../../scripts/pgtap/provision.mjs'), '--json'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`scripts/pgtap/provision.mjs failed (exit ${r.status})`);
  return JSON.parse(r.stdout) as PgtapPaths;
}

interface Prove {
  code: number;
  output: string;
  failed: string[];
}

describe('export-tests: the isolation matrix as pgTAP, run under pg_prove', function () {
  this.timeout(300_000);
  let paths: PgtapPaths;
  let server: EmbeddedServer;
  let client: pg.Client;
  let url: string;
  let database: string;

  const prove = (files: string[]): Prove => {
    const target = new URL(url);
    const r = spawnSync(
      paths.pgProve,
      [
        '--psql-bin',
        paths.psql,
        '--verbose',
        '-h',
        target.hostname,
        '-p',
        target.port,
        '-U',
        'postgres',
        '-d',
        database,
        ...files,
      ],
      { encoding: 'utf8', env: { ...process.env, PGPASSWORD: decodeURIComponent(target.password) } },
    );
    const output = `${r.stdout}${r.stderr}`;
    return { code: r.status ?? -1, output, failed: output.split('\n').filter((l) => /^not ok /.test(l)) };
  };

  before(async () => {
    paths = provision();
    server = await startEmbeddedServer(15, () => {}, {}, paths.bin);
  });
  after(async () => {
    await server?.stop();
  });

  const fresh = async (overrides: Record<string, unknown> = {}, extraSchema = ''): Promise<Workspace> => {
    database = `tm_pgtap_${Math.random().toString(16).slice(2, 10)}`;
    const admin = new pg.Client(server.adminUrl);
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.end();
    url = server.urlFor(database);
    client?.end().catch(() => undefined);
    client = new pg.Client(url);
    client.on('error', () => undefined);
    await client.connect();
    await createLegacySchema(client);
    await seedLegacyData(client, SMALL);
    if (extraSchema) await client.query(extraSchema);
    const ws = makeWorkspace(overrides);
    await migrateFully(url, ws);
    // The exported suite is the proof of enforced isolation the team keeps.
    await withMigration(url, ws, (m) => m.enforce({ appSendsContext: true }));
    return ws;
  };
  afterEach(async () => {
    await client?.end().catch(() => undefined);
  });

  it('writes one file per table; they pass after the migration, and fail on a leaking view and on a dropped isolation policy', async () => {
    const ws = await fresh();
    const step = await withMigration(url, ws, (m) => m.exportTests());
    assert.equal(step.status, 'done', step.summary);
    const dir = path.join(ws.folder, 'supabase/tests/database');
    const files = fs.readdirSync(dir).sort();
    assert.deepEqual(files, [
      'tenant_isolation_public_credentials.test.sql',
      'tenant_isolation_public_dashboard_layouts.test.sql',
      'tenant_isolation_public_reports.test.sql',
      'tenant_isolation_public_tenant_credentials.test.sql',
    ]);
    const reports = fs.readFileSync(path.join(dir, 'tenant_isolation_public_reports.test.sql'), 'utf8');
    for (const part of [
      /^BEGIN;$/m,
      /SELECT plan\(\d+\);/,
      /SET LOCAL ROLE "authenticated";/,
      /set_config\('request\.jwt\.claims'/,
      /SELECT is_empty\(/,
      /SELECT throws_ok\(.*'42501', 'new row violates row-level security policy/,
      /relforcerowsecurity/,
      /policies_are\('public', 'reports'/,
      /SELECT \* FROM finish\(\);\nROLLBACK;\n$/,
    ]) {
      assert.match(reports, part);
    }
    const all = files.map((f) => path.join(dir, f));
    const passed = prove(all);
    assert.equal(passed.code, 0, passed.output.slice(-3000));
    assert.match(passed.output, /Result: PASS/);
    const tests = Number(/Tests=(\d+)/.exec(passed.output)?.[1]);
    assert.ok(tests > 4 * 20, `${tests} tests ran`);
    // Nothing the suite wrote stayed behind.
    assert.equal(
      Number((await client.query(`SELECT count(*) AS n FROM orgs WHERE name LIKE 'tm-probe-%'`)).rows[0].n),
      0,
    );

    await client.query(
      `CREATE VIEW report_titles AS SELECT id, org_id, title FROM reports; GRANT SELECT ON report_titles TO authenticated`,
    );
    const viewed = prove(all);
    assert.notEqual(viewed.code, 0);
    assert.deepEqual(
      viewed.failed.map((l) => l.replace(/^not ok \d+ - /, '')),
      ["no view a tenant role may read shows public.reports with its owner's rights (around row-level security)"],
      viewed.output.slice(-2000),
    );
    await client.query(`DROP VIEW report_titles`);

    // credentials keeps its owner-only legacy policy: without the isolation policy its owner reaches it from any org.
    await client.query(`DROP POLICY tenant_migration_isolation ON credentials`);
    const dropped = prove(all);
    assert.notEqual(dropped.code, 0);
    const names = dropped.failed.join('\n');
    assert.match(names, /policies on public\.credentials are the ones verified/);
    assert.match(names, /isolation policy on public\.credentials is restrictive/);
    assert.match(
      names,
      /public\.credentials: another org \(authenticated\) SELECTs org a's row: deny/,
      'a cell sees the leak, not only the catalog checks',
    );
    assert.ok(dropped.failed.length >= 3);
    const summary = dropped.output.slice(dropped.output.indexOf('Test Summary Report'));
    assert.match(summary, /tenant_isolation_public_credentials\.test\.sql/);
    assert.doesNotMatch(summary, /tenant_isolation_public_reports\.test\.sql/, "the other tables' files still pass");
  });

  it('tenant-migrate export-tests --out: for a plain session setting as the tenant context too (the probe role is made inside the test)', async () => {
    const ws = await fresh({ tenantContext: { kind: 'setting', name: 'app.current_org_id' } });
    await buildCli();
    const cli = await runCli(ws.folder, [
      'export-tests',
      '--out',
      'db-tests',
      '--config',
      ws.specFile,
      '--database-url',
      url,
      '--json',
    ]);
    assert.equal(cli.code, 0, cli.stderr);
    const doc = JSON.parse(cli.stdout) as { result: { status: string; exportedFiles: string[] } };
    assert.equal(doc.result.status, 'done');
    assert.deepEqual(
      doc.result.exportedFiles.map((f) => path.relative(ws.folder, f)).sort(),
      fs
        .readdirSync(path.join(ws.folder, 'db-tests'))
        .map((f) => path.join('db-tests', f))
        .sort(),
    );
    assert.equal(doc.result.exportedFiles.length, 4);
    assert.ok(!showsPassword(cli.stdout + cli.stderr, passwordOf(url)));
    const text = fs.readFileSync(path.join(ws.folder, 'db-tests', 'tenant_isolation_public_reports.test.sql'), 'utf8');
    assert.match(text, /set_config\('app\.current_org_id'/);
    const r = prove(doc.result.exportedFiles);
    assert.equal(r.code, 0, r.output.slice(-3000));
  });

  it('exports an empty table with a composite key, an enum, a unique column and a user trigger, and it passes', async () => {
    const ws = await fresh(
      {
        tables: [
          ...(legacySpec().tables as unknown[]),
          { name: 'Team Notes', orgFrom: { parent: { table: 'credentials', column: 'credential_id' } } },
        ],
      },
      NOTES,
    );
    const step = await withMigration(url, ws, (m) => m.exportTests());
    assert.equal(step.status, 'done', step.summary);
    const file = step.exportedFiles!.find((f) => f.endsWith('tenant_isolation_public_Team_Notes.test.sql'))!;
    assert.ok(file, step.exportedFiles!.join(', '));
    const r = prove([file]);
    assert.equal(r.code, 0, r.output.slice(-3000));
    assert.equal(
      Number((await client.query(`SELECT count(*) AS n FROM note_audit`)).rows[0].n),
      0,
      "the trigger's rows were rolled back with the test",
    );
  });
});
