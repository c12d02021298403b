// "Tenant Migration: Run" against a real PostgreSQL: the database ends migrated, the checklist followed every step
// live (status, progress with rows and time left, duration and rows), and the log holds every statement and its
// outcome but never the password.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import { STEPS, STEP_TITLES, type ChecklistStep } from '../../../src/engine/events';
import type { TenantMigrationApi } from '../../../src/extension/api';
import { account, addProfile, checklistRows, extension, freshDatabase, query, waitFor } from './helpers';

const TABLES = ['credentials', 'reports', 'dashboard_layouts'];

describe('Tenant Migration: Run', () => {
  let api: TenantMigrationApi;
  let database: string;
  const seen = new Map<ChecklistStep, Set<string>>();
  const migrateDescriptions: string[] = [];
  let result: { ok: boolean; message: string; reportPath?: string };

  before(async function () {
    this.timeout(180_000);
    ({ api } = await extension());
    database = await freshDatabase('run', 'medium');
    await addProfile('rehearsal', database);
    // Record what the checklist shows as the run goes: every status of every step, and the migrate step's text.
    const listener = api.onDidChangeChecklist(() => {
      for (const step of STEPS) {
        const set = seen.get(step) ?? new Set<string>();
        set.add(api.stepState(step).status);
        seen.set(step, set);
      }
      const item = api.checklist.getTreeItem({ kind: 'step', step: 'migrate' } as never) as vscode.TreeItem;
      if (typeof item.description === 'string' && item.description) migrateDescriptions.push(item.description);
    });
    try {
      result = await vscode.commands.executeCommand('tenantMigration.run');
    } finally {
      listener.dispose();
    }
  });

  it('drives the database to the migrated state', async () => {
    assert.equal(result.ok, true, result.message);
    for (const table of TABLES) {
      const [column] = await query<{ is_nullable: string }>(
        database,
        `SELECT is_nullable FROM information_schema.columns WHERE table_name = $1 AND column_name = 'org_id'`,
        [table],
      );
      assert.equal(column?.is_nullable, 'NO', `${table}.org_id exists and is NOT NULL`);
      const [rls] = await query<{ enabled: boolean; forced: boolean }>(
        database,
        `SELECT relrowsecurity AS enabled, relforcerowsecurity AS forced FROM pg_class WHERE oid = $1::regclass`,
        [table],
      );
      // Transition mode: enabled, forced only once isolation is enforced (the application keeps working until then).
      assert.deepEqual(rls, { enabled: true, forced: false }, `row-level security on ${table}`);
      const [{ n }] = (await query<{ n: string }>(
        database,
        `SELECT count(*)::text AS n FROM ${table} WHERE org_id IS NULL`,
      )) as [{ n: string }];
      assert.equal(n, '0');
    }
    const [ledger] = await query<{ ledger: string; credentials: string }>(
      database,
      `SELECT (SELECT count(*) FROM tenant_credentials)::text AS ledger, (SELECT count(*) FROM credentials)::text AS credentials`,
    );
    assert.equal(ledger!.ledger, ledger!.credentials, 'one tenant_credentials row per credential');
    const [run] = await query<{ command: string; status: string }>(
      database,
      `SELECT command, status FROM tenant_migration.runs ORDER BY id DESC LIMIT 1`,
    );
    assert.deepEqual(run, { command: 'run', status: 'succeeded' });
    assert.ok(
      result.reportPath && fs.readFileSync(result.reportPath, 'utf8').includes('Migrate'),
      'the run report was written',
    );
  });

  it('followed every step live: running, then done; the backfill with rows and time left', () => {
    for (const step of [
      'prerequisites',
      'preview',
      'backup',
      'migrate',
      'validate',
      'isolation',
      'tests',
      'report',
    ] as const) {
      assert.ok(
        seen.get(step)?.has('running'),
        `${step} was shown running (saw ${[...(seen.get(step) ?? [])].join(', ')})`,
      );
      assert.ok(seen.get(step)?.has('done'), `${step} was shown done`);
    }
    // The state first (a 300 px side bar shows about 30 characters): percentage and table, time left, then the rows.
    assert.ok(
      migrateDescriptions.some((d) =>
        /^\d+% \S+ · (.+ left|estimating|done) · [\d,]+ (of ~[\d,]+ )?rows? given their org$/.test(d),
      ),
      `the migrate step showed the backfill's rows and time left; it showed:\n${[...new Set(migrateDescriptions)].slice(0, 12).join('\n')}`,
    );
  });

  it('shows every step of the guide with its outcome, duration and rows', async () => {
    const rows = await checklistRows(api);
    assert.deepEqual(
      rows.map((r) => r.label),
      STEPS.map((s) => STEP_TITLES[s]),
    );
    const row = (step: ChecklistStep) => rows[STEPS.indexOf(step)]!;
    // Prerequisites passed, but nobody ticked the manual items (the run went on after "Run Anyway"): not plain green.
    assert.equal(row('prerequisites').icon, 'pass', 'passed, in the warning colour');
    assert.match(row('prerequisites').description, /^3 to tick · /);
    for (const step of ['preview', 'backup', 'migrate', 'validate', 'isolation', 'tests', 'report'] as const) {
      assert.equal(row(step).icon, 'pass-filled', `${step} shows done: ${JSON.stringify(row(step))}`);
    }
    for (const step of ['prerequisites', 'backup', 'migrate', 'validate', 'isolation', 'tests'] as const) {
      assert.match(row(step).description, /\d+(\.\d)? (ms|s|min)/, `${step} shows its duration`);
    }
    assert.match(row('backup').description, /[\d,]+ rows/);
    assert.match(row('migrate').description, /[\d,]+ rows/);
    const checks = row('validate').children;
    assert.ok(
      checks.length >= 5 && checks.every((c) => c.icon === 'check'),
      `validation checks: ${checks.map((c) => `${c.icon} ${c.label}`).join('; ')}`,
    );
    const probes = row('isolation').children;
    assert.ok(
      probes.length >= 12 && probes.every((c) => c.icon === 'check'),
      `${probes.length} isolation probes, all held`,
    );
    assert.ok(
      row('tests').children.some((c) => c.label === 'DATABASE_URL reaches the project tests' && c.icon === 'check'),
      'the project test command ran with DATABASE_URL',
    );
    const manual = row('prerequisites').children.filter((c) => c.checkbox);
    assert.deepEqual(
      manual.map((m) => m.checkbox),
      ['unchecked', 'unchecked', 'unchecked'],
    );
    const prerequisites = row('prerequisites').children.find((c) => /checks passed/.test(c.label));
    assert.ok(prerequisites && prerequisites.children.length >= 8, 'the preflight checks, grouped');
    // Warnings, passed all the same: the fixture's legacy mapping has no index on its key, and the tables tenant roles
    // can read that are neither migrated nor shared are named.
    assert.deepEqual(
      prerequisites.children
        .filter((c) => c.icon !== 'check')
        .map((c) => `${c.icon} ${c.label}`)
        .sort(),
      [
        'warning Shape: public.legacy_credential_org_map',
        'warning Shape: public.org_members',
        'warning Shape: public.orgs',
        'warning Shape: public.users',
        "warning Index on the mapping's credential_id",
      ].sort(),
    );
    assert.match(row('report').description, /^written \d\d:\d\d:\d\d$/);
    assert.equal(
      api.stepState('migrate').source,
      'database',
      'after the run the checklist shows what the database recorded',
    );
  });

  it('logs every statement with its outcome, and never the password', async () => {
    const secret = account().password;
    const log = await waitFor('the log file to hold the run', () => {
      const files = fs.existsSync(api.logUri.fsPath)
        ? fs.readdirSync(api.logUri.fsPath).filter((f) => f.endsWith('.log'))
        : [];
      const text = files.map((f) => fs.readFileSync(path.join(api.logUri.fsPath, f), 'utf8')).join('\n');
      return text.includes('Migration run complete') ? text : undefined;
    });
    assert.match(log, /\[migrate\] statement \d+\/\d+ \(line \d+, columns\): ALTER TABLE "public"\."credentials"/);
    assert.match(log, /\[migrate\] statement \d+: ok in \d+/);
    assert.match(log, /\[backup\] statement \d+\/\d+/);
    assert.match(log, /backfill public\.credentials: .*rows/);
    assert.ok(!log.includes(secret) && !log.includes(encodeURIComponent(secret)), 'the password is not in the log');
  });
});
