// Cancel (the progress notification's button, or "Cancel Run") stops the running statement on the server; the run
// is recorded as cancelled and the next run resumes and completes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import pg from 'pg';
import * as vscode from 'vscode';
import type { TenantMigrationApi } from '../../../src/extension/api';
import { addProfile, extension, freshDatabase, query, urlFor, waitFor } from './helpers';

type Summary = { ok: boolean; message: string; cancelled?: boolean };

describe('cancelling a run', () => {
  let api: TenantMigrationApi;
  let database: string;
  let scriptFile: string;
  let originalScript: string;
  const blocker = () => new pg.Client(urlFor(database));
  let holder: pg.Client;

  before(async () => {
    ({ api } = await extension());
    database = await freshDatabase('cancel');
    await addProfile('cancel', database);
    // The script with a lock_timeout of ten minutes: without a server-side cancel the blocked statement would wait that long.
    const generated = await vscode.commands.executeCommand<{ path: string }>('tenantMigration.generateScript', true);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    scriptFile = generated.path;
    originalScript = fs.readFileSync(scriptFile, 'utf8');
    assert.match(originalScript, /^SET lock_timeout = '\d+ms';$/m);
    fs.writeFileSync(
      scriptFile,
      originalScript.replace(/^SET lock_timeout = '\d+ms';$/m, "SET lock_timeout = '600000ms';"),
    );
    // Another session holds a lock that lets the backup read but blocks ALTER TABLE credentials.
    holder = blocker();
    holder.on('error', () => undefined);
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE credentials IN SHARE MODE');
  });

  after(async () => {
    await holder?.end().catch(() => undefined);
    if (originalScript) fs.writeFileSync(scriptFile, originalScript);
  });

  it('stops the statement on the server', async () => {
    const running = vscode.commands.executeCommand<Summary>('tenantMigration.run');
    const waiting = () =>
      query<{ pid: number; query: string }>(
        database,
        `SELECT pid, query FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tenant-migration' AND wait_event_type = 'Lock'`,
      );
    const [blocked] = await waitFor(
      'the migration to wait for the lock on credentials',
      async () => ((await waiting()).length ? await waiting() : undefined),
      60_000,
    );
    assert.match(blocked!.query, /ALTER TABLE/i);
    assert.equal(
      api.activeRun()?.step,
      'migrate',
      `${JSON.stringify(api.activeRun())} while waiting in ${blocked!.query}`,
    );
    const started = Date.now();
    assert.equal(await vscode.commands.executeCommand('tenantMigration.cancel'), true);
    const result = await running;
    assert.ok(Date.now() - started < 15_000, `the run ended ${Date.now() - started} ms after the cancel`);
    assert.equal(result.ok, false, JSON.stringify(result));
    assert.equal(result.cancelled, true, JSON.stringify(result));
    assert.match(result.message, /Cancelled during the statement at line \d+; the server stopped it/);
    assert.deepEqual(await waiting(), [], 'nothing of the migration still waits on the server');
    const [run] = await query<{ status: string }>(
      database,
      'SELECT status FROM tenant_migration.runs ORDER BY id DESC LIMIT 1',
    );
    assert.equal(run!.status, 'cancelled');
    assert.equal(api.stepState('migrate').status, 'failed');
  });

  it('resumes: the next run completes once the lock is gone', async () => {
    await holder.query('ROLLBACK');
    const result = await vscode.commands.executeCommand<Summary>('tenantMigration.run');
    assert.equal(result.ok, true, result.message);
    assert.equal(api.stepState('migrate').status, 'done');
  });
});
