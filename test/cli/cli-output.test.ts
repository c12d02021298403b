// The CLI contract, part 2: exit 0 and 1, what each command writes (or does not), --json, status and init.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/database';
import {
  assertSameDigest,
  buildCli,
  databaseDigest,
  migrationTraces,
  passwordOf,
  showsPassword,
  Workspace,
} from '../support/cli';
import { legacySpec } from '../fixtures/legacy-data';

const TABLES = ['credentials', 'dashboard_layouts', 'reports'];
const RUN_STEPS = ['prerequisites', 'preview', 'backup', 'migrate', 'validate', 'isolation', 'tests'];

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}
interface Step {
  step: string;
  status: string;
  durationMs?: number;
  checks?: Check[];
  probes?: unknown[];
  next?: string;
}
/** The --json document (README, schema version 1), with the result fields these tests read. */
interface JsonDocument {
  schemaVersion: number;
  command: string;
  ok: boolean;
  exitCode: number;
  error: { message: string; next: string; details: string[] } | null;
  result: {
    ok?: boolean;
    steps: Step[];
    reportPath: string;
    migrated?: boolean;
    enforced?: boolean;
    gaps: { blocking: boolean; tables: { table: string; rows: number }[] };
    lastRun?: { command: string; status: string };
    lockHeldBy?: unknown;
    tables: { hasOrgColumn: boolean; rlsEnabled: boolean; rlsForced: boolean }[];
  };
}

/** Parses stdout as exactly one JSON document (a second document or any progress text makes JSON.parse throw). */
function oneJsonDocument(stdout: string): JsonDocument {
  assert.match(stdout, /^\{[\s\S]*\}\n$/, 'stdout is one JSON object and a newline');
  return JSON.parse(stdout);
}

describe('CLI results and output', function () {
  this.timeout(180_000);
  let db: TestDatabase;
  let ws: Workspace;

  before(() => buildCli());
  beforeEach(async () => {
    db = await createTestDatabase();
    ws = new Workspace(legacySpec());
  });
  afterEach(async () => {
    ws?.remove();
    await db?.drop();
  });

  async function orgColumnState(): Promise<{ table: string; notNull: boolean; nulls: number }[]> {
    const out = [];
    for (const table of TABLES) {
      const col = await db.client.query(
        `SELECT attnotnull FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'org_id' AND NOT attisdropped`,
        [table],
      );
      const nulls = col.rows.length
        ? (await db.client.query(`SELECT count(*)::int AS n FROM ${table} WHERE org_id IS NULL`)).rows[0].n
        : -1;
      out.push({ table, notNull: col.rows[0]?.attnotnull === true, nulls });
    }
    return out;
  }

  it('plan exits 0, prints the plan and the gaps, and writes nothing', async () => {
    const before = await databaseDigest(db.client);
    const r = await ws.run(['plan'], { DATABASE_URL: db.url });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /not written yet: generated from the spec/);
    assert.match(
      r.stdout,
      /public\.credentials \(mapping public\.legacy_credential_org_map by id\): 172 by rule, 28 to the default org, of 200/,
    );
    assert.match(r.stdout, /Statements \(\d+\):/);
    const json = await ws.run(['plan', '--json'], { DATABASE_URL: db.url });
    assert.equal(json.code, 0, json.stderr);
    const doc = oneJsonDocument(json.stdout);
    assert.deepEqual(
      { command: doc.command, ok: doc.ok, exitCode: doc.exitCode, error: doc.error },
      { command: 'plan', ok: true, exitCode: 0, error: null },
    );
    assert.equal(doc.result.gaps.blocking, false);
    assert.deepEqual(
      doc.result.gaps.tables.map((t) => [t.table, t.rows]),
      [
        ['public.credentials', 200],
        ['public.reports', 600],
        ['public.dashboard_layouts', 80],
      ],
    );
    assertSameDigest(
      before,
      await databaseDigest(db.client),
      'schemas, tables, columns, policies, triggers and every row are unchanged',
    );
    assert.deepEqual(ws.files(), ['tenant-migration.json'], 'no script, no log, no report');
    assert.equal((await migrationTraces(db.client)).stateSchema, false);
  });

  it('plan exits 3 when a gap blocks the run, and still writes nothing', async () => {
    await db.client.query(`INSERT INTO legacy_credential_org_map VALUES (123, '00000000-0000-0000-0001-000000000002')`);
    const before = await databaseDigest(db.client);
    const r = await ws.run(['plan'], { DATABASE_URL: db.url });
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stdout, /✘ public\.credentials: 1 key maps to more than one org[\s\S]*e\.g\. 123 \(maps to /);
    assertSameDigest(before, await databaseDigest(db.client));
    assert.deepEqual(ws.files(), ['tenant-migration.json']);
  });

  it('generate writes the script; a second generate without --force exits 2 and leaves it untouched', async () => {
    const before = await databaseDigest(db.client);
    const first = await ws.run(['generate'], { DATABASE_URL: db.url });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, new RegExp(`Wrote ${ws.scriptPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const generated = fs.readFileSync(ws.scriptPath, 'utf8');
    assert.match(generated, /ALTER TABLE "public"\."credentials" ADD COLUMN IF NOT EXISTS "org_id"/i);
    assert.match(generated, /ENABLE ROW LEVEL SECURITY/);
    assertSameDigest(before, await databaseDigest(db.client), 'generate does not touch the database');

    const reviewed = `${generated}\n-- reviewed by the team\n`;
    fs.writeFileSync(ws.scriptPath, reviewed);
    const second = await ws.run(['generate'], { DATABASE_URL: db.url });
    assert.equal(second.code, 2);
    assert.match(second.errorLines[0] ?? '', /migrate_to_multitenant\.sql exists and was not overwritten — .*--force/);
    assert.equal(fs.readFileSync(ws.scriptPath, 'utf8'), reviewed, 'the reviewed script is untouched');

    const forced = await ws.run(['generate', '--force'], { DATABASE_URL: db.url });
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(fs.readFileSync(ws.scriptPath, 'utf8'), generated, '--force regenerates it from the spec');
  });

  it('run --yes --json prints one JSON document, runs the steps in order and writes the report', async () => {
    await ws.tickAll({ DATABASE_URL: db.url });
    const r = await ws.run(['run', '--yes', '--json'], { DATABASE_URL: db.url });
    assert.equal(r.code, 0, r.stdout.slice(0, 4000));
    const doc = oneJsonDocument(r.stdout);
    assert.deepEqual(
      { schemaVersion: doc.schemaVersion, command: doc.command, ok: doc.ok, exitCode: doc.exitCode, error: doc.error },
      { schemaVersion: 1, command: 'run', ok: true, exitCode: 0, error: null },
    );
    assert.equal(doc.result.ok, true);
    assert.deepEqual(
      doc.result.steps.map((s) => s.step),
      RUN_STEPS,
    );
    assert.deepEqual(
      doc.result.steps.map((s) => s.status),
      ['done', 'done', 'done', 'done', 'done', 'done', 'skipped'],
    );
    const transition = doc.result.steps
      .find((s) => s.step === 'isolation')!
      .checks!.find((c) => c.name === 'Transition mode');
    assert.match(transition?.detail ?? '', /enforce --app-sends-context/, 'the run says what comes before enforcing');
    for (const s of doc.result.steps) assert.equal(typeof s.durationMs, 'number');
    assert.ok(
      doc.result.steps.find((s) => s.step === 'isolation')!.probes!.length > 0,
      'the isolation probes are in the result',
    );

    const report = doc.result.reportPath as string;
    assert.ok(report.startsWith(path.join(ws.dir, '.tenant-migration', 'reports')), report);
    const markdown = fs.readFileSync(report, 'utf8');
    assert.match(markdown, /Validate/);
    assert.ok(
      !showsPassword(markdown + r.stdout + r.stderr, passwordOf(db.url)),
      'no password in the report or the output',
    );
    assert.ok(fs.existsSync(ws.scriptPath), 'the script was generated into the workspace');

    assert.deepEqual(
      await orgColumnState(),
      TABLES.map((table) => ({ table, notNull: true, nulls: 0 })),
    );
    const ledger = await db.client.query(
      `SELECT (SELECT count(*)::int FROM tenant_credentials) AS ledger, (SELECT count(*)::int FROM credentials) AS creds`,
    );
    assert.equal(ledger.rows[0].ledger, ledger.rows[0].creds);
    assert.equal((await migrationTraces(db.client)).backups.length, 3);
  });

  it('a run whose project test command fails exits 1, and the report is still written', async () => {
    ws.writeSpec(legacySpec({ tests: [{ name: 'failing', command: 'exit 7' }] }));
    await ws.tickAll({ DATABASE_URL: db.url });
    const r = await ws.run(['run', '--yes'], { DATABASE_URL: db.url });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.errorLines.length, 1);
    assert.match(r.errorLines[0]!, /Project tests failed: 1 of 1 test command failed — /);
    assert.match(r.stderr, /failing: exit 7/);
    const reportLine = r.stdout.split('\n').find((l) => l.startsWith('Report: '));
    assert.ok(reportLine, `stdout names the report: ${r.stdout}`);
    const report = reportLine!.slice('Report: '.length);
    assert.ok(fs.existsSync(report), report);
    assert.match(fs.readFileSync(report, 'utf8'), /failing/);
    assert.ok(fs.existsSync(ws.file('.tenant-migration/reports/latest.md')));
    // The tests run last: the migration itself is complete.
    assert.deepEqual(
      await orgColumnState(),
      TABLES.map((table) => ({ table, notNull: true, nulls: 0 })),
    );
    const run = await db.client.query(`SELECT status FROM tenant_migration.runs ORDER BY id DESC LIMIT 1`);
    assert.equal(run.rows[0].status, 'failed');
  });

  it('run --json with a failing test command: exitCode 1, the partial result and the report path', async () => {
    ws.writeSpec(
      legacySpec({
        tests: [
          { name: 'passing', command: 'exit 0' },
          { name: 'failing', command: 'echo boom >&2; exit 7' },
        ],
      }),
    );
    await ws.tickAll({ DATABASE_URL: db.url });
    const r = await ws.run(['run', '--yes', '--json'], { DATABASE_URL: db.url });
    assert.equal(r.code, 1);
    const doc = oneJsonDocument(r.stdout);
    assert.deepEqual({ ok: doc.ok, exitCode: doc.exitCode }, { ok: false, exitCode: 1 });
    assert.match(doc.error!.message, /Project tests failed/);
    const tests = doc.result.steps.at(-1)!;
    assert.equal(tests.step, 'tests');
    assert.equal(tests.status, 'failed');
    assert.deepEqual(
      tests.checks!.map((c) => [c.name, c.ok]),
      [
        ['passing', true],
        ['failing', false],
      ],
    );
    assert.match(tests.checks![1]!.detail, /exit 7.*boom/);
    assert.ok(fs.existsSync(doc.result.reportPath));
  });

  it('status --json: all pending (and nothing written) before, steps done after a run', async () => {
    const before = await databaseDigest(db.client);
    const fresh = await ws.run(['status', '--json'], { DATABASE_URL: db.url });
    assert.equal(fresh.code, 0, fresh.stderr);
    const initial = oneJsonDocument(fresh.stdout).result;
    assert.equal(initial.migrated, false);
    assert.ok(initial.steps.every((s) => s.status === 'pending'));
    assertSameDigest(before, await databaseDigest(db.client), 'status writes nothing');

    await ws.tickAll({ DATABASE_URL: db.url });

    const run = await ws.run(['run', '--yes'], { DATABASE_URL: db.url });
    assert.equal(run.code, 0, run.stderr);
    const r = await ws.run(['status', '--json'], { DATABASE_URL: db.url });
    assert.equal(r.code, 0, r.stderr);
    const doc = oneJsonDocument(r.stdout);
    assert.deepEqual(
      { schemaVersion: doc.schemaVersion, command: doc.command, ok: doc.ok },
      { schemaVersion: 1, command: 'status', ok: true },
    );
    const status = doc.result;
    assert.equal(status.migrated, true);
    const byStep = Object.fromEntries(status.steps.map((s) => [s.step, s.status]));
    for (const step of ['prerequisites', 'preview', 'backup', 'migrate', 'validate', 'isolation', 'report'])
      assert.equal(byStep[step], 'done', `${step}: ${byStep[step]}`);
    assert.equal(byStep.tests, 'skipped');
    assert.equal(byStep.enforce, 'pending', 'run stops before enforce');
    assert.equal(status.enforced, false);
    assert.equal(status.lastRun?.command, 'run');
    assert.equal(status.lastRun?.status, 'succeeded');
    assert.equal(status.lockHeldBy, undefined, 'nobody holds the lock after the run');
    assert.ok(
      status.tables.every((t) => t.hasOrgColumn && t.rlsEnabled && !t.rlsForced),
      'transition mode: enabled, FORCE waits for enforce',
    );
  });

  it('init writes tenant-migration.json and checks.sql in an empty folder; a second init exits 2', async () => {
    const empty = new Workspace();
    try {
      const r = await empty.run(['init']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(empty.files(), ['checks.sql', 'tenant-migration.json']);
      const spec = JSON.parse(fs.readFileSync(empty.specPath, 'utf8'));
      assert.deepEqual(
        spec.tables.map((t: { name: string }) => t.name),
        ['credentials', 'reports', 'dashboard_layouts'],
      );
      assert.equal(spec.defaultOrgId, '00000000-0000-0000-0000-000000000001');
      assert.match(
        fs.readFileSync(empty.file('checks.sql'), 'utf8'),
        /SELECT COUNT\(\*\) FROM credentials WHERE org_id IS NULL;/,
      );
      // The spec it writes is valid for the guide's tables.
      const plan = await empty.run(['plan', '--json'], { DATABASE_URL: db.url });
      assert.equal(plan.code, 0, plan.stdout.slice(0, 2000));

      fs.appendFileSync(empty.specPath, '\n');
      const edited = fs.readFileSync(empty.specPath, 'utf8');
      const again = await empty.run(['init']);
      assert.equal(again.code, 2);
      assert.equal(again.errorLines.length, 1);
      assert.match(again.errorLines[0]!, /tenant-migration\.json exists — Keep it, or pass --force/);
      assert.equal(fs.readFileSync(empty.specPath, 'utf8'), edited, 'the existing spec is untouched');
    } finally {
      empty.remove();
    }
  });
});
